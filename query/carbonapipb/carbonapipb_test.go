package carbonapipb

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TestGlobResponseBytes pins the exact wire bytes of a small v2 GlobResponse.
func TestGlobResponseBytes(t *testing.T) {
	got := AppendGlobResponse(nil, &GlobResponse{Name: "a.*", Matches: []GlobMatch{{Path: "a.b", IsLeaf: true}, {Path: "a.c"}}})
	want := []byte{
		0x0a, 3, 'a', '.', '*',
		0x12, 7, 0x0a, 3, 'a', '.', 'b', 0x10, 1,
		0x12, 5, 0x0a, 3, 'a', '.', 'c',
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

// TestLongMessageLengthPrefix checks endMsg's shift for bodies >= 128 bytes
// (two-byte length varint).
func TestLongMessageLengthPrefix(t *testing.T) {
	vals := make([]float64, 40)
	for i := range vals {
		vals[i] = float64(i) + 0.5
	}
	in := []FetchResponseV3{{Name: "x", StartTime: 100, StopTime: 500, StepTime: 10, Values: vals}, {Name: "y", Values: []float64{math.NaN()}}}
	b := AppendMultiFetchV3(nil, in)
	if b[0] != 0x0a || b[1] != 0xcd || b[2] != 0x02 { // 333-byte body
		t.Fatalf("prefix % x", b[:3])
	}
	out, err := DecodeMultiFetchV3(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Name != "x" || out[0].StopTime != 500 || !reflect.DeepEqual(out[0].Values, vals) || out[1].Name != "y" || !math.IsNaN(out[1].Values[0]) {
		t.Fatalf("round trip: %+v", out)
	}
}

func fld(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, label descriptorpb.FieldDescriptorProto_Label, msg string) *descriptorpb.FieldDescriptorProto {
	f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(), Label: label.Enum(), JsonName: proto.String(name)}
	if msg != "" {
		f.TypeName = proto.String(msg)
	}
	return f
}

const (
	opt = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	rep = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	tS  = descriptorpb.FieldDescriptorProto_TYPE_STRING
	tB  = descriptorpb.FieldDescriptorProto_TYPE_BOOL
	tI3 = descriptorpb.FieldDescriptorProto_TYPE_INT32
	tI6 = descriptorpb.FieldDescriptorProto_TYPE_INT64
	tD  = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
	tF  = descriptorpb.FieldDescriptorProto_TYPE_FLOAT
	tM  = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
)

// schema builds the upstream .proto definitions with the protobuf
// runtime, as an independent decoder/encoder for our hand-written wire code.
func schema(t *testing.T) protoreflect.FileDescriptor {
	t.Helper()
	msg := func(name string, fs ...*descriptorpb.FieldDescriptorProto) *descriptorpb.DescriptorProto {
		return &descriptorpb.DescriptorProto{Name: proto.String(name), Field: fs}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("t.proto"), Package: proto.String("t"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			msg("V2Fetch", fld("name", 1, tS, opt, ""), fld("startTime", 2, tI3, opt, ""), fld("stopTime", 3, tI3, opt, ""), fld("stepTime", 4, tI3, opt, ""), fld("values", 5, tD, rep, ""), fld("isAbsent", 6, tB, rep, "")),
			msg("V2MultiFetch", fld("metrics", 1, tM, rep, ".t.V2Fetch")),
			msg("GlobMatch", fld("path", 1, tS, opt, ""), fld("isLeaf", 2, tB, opt, "")),
			msg("GlobResponse", fld("name", 1, tS, opt, ""), fld("matches", 2, tM, rep, ".t.GlobMatch")),
			msg("MultiGlobResponse", fld("metrics", 1, tM, rep, ".t.GlobResponse")),
			msg("FilteringFunction", fld("name", 1, tS, opt, ""), fld("arguments", 2, tS, rep, "")),
			msg("FetchRequest", fld("name", 1, tS, opt, ""), fld("startTime", 2, tI6, opt, ""), fld("stopTime", 3, tI6, opt, ""), fld("highPrecisionTimestamps", 4, tB, opt, ""), fld("pathExpression", 5, tS, opt, ""), fld("filterFunctions", 6, tM, rep, ".t.FilteringFunction"), fld("maxDataPoints", 7, tI6, opt, "")),
			msg("MultiFetchRequest", fld("metrics", 1, tM, rep, ".t.FetchRequest")),
			msg("V3Fetch", fld("name", 1, tS, opt, ""), fld("pathExpression", 2, tS, opt, ""), fld("consolidationFunc", 3, tS, opt, ""), fld("startTime", 4, tI6, opt, ""), fld("stopTime", 5, tI6, opt, ""), fld("stepTime", 6, tI6, opt, ""), fld("xFilesFactor", 7, tF, opt, ""), fld("highPrecisionTimestamps", 8, tB, opt, ""), fld("values", 9, tD, rep, ""), fld("appliedFunctions", 10, tS, rep, ""), fld("requestStartTime", 11, tI6, opt, ""), fld("requestStopTime", 12, tI6, opt, "")),
			msg("V3MultiFetch", fld("metrics", 1, tM, rep, ".t.V3Fetch")),
		},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func unmarshal(t *testing.T, fd protoreflect.FileDescriptor, name string, b []byte) *dynamicpb.Message {
	t.Helper()
	m := dynamicpb.NewMessage(fd.Messages().ByName(protoreflect.Name(name)))
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatalf("protobuf runtime rejects our %s: %v", name, err)
	}
	return m
}

func get(m protoreflect.Message, name string) protoreflect.Value {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name)))
}

// TestV2AgainstProtobufRuntime decodes our v2 bytes with the protobuf
// runtime and checks every field.
func TestV2AgainstProtobufRuntime(t *testing.T) {
	fd := schema(t)
	b := AppendMultiFetchV2(nil, []FetchResponseV2{{Name: "a.b", StartTime: 60, StopTime: 240, StepTime: 60, Values: []float64{1.5, 0, -2}, IsAbsent: []bool{false, true, false}}})
	m := unmarshal(t, fd, "V2MultiFetch", b)
	l := get(m, "metrics").List()
	if l.Len() != 1 {
		t.Fatalf("metrics %d", l.Len())
	}
	s := l.Get(0).Message()
	if get(s, "name").String() != "a.b" || get(s, "startTime").Int() != 60 || get(s, "stopTime").Int() != 240 || get(s, "stepTime").Int() != 60 {
		t.Fatalf("header fields wrong: %v", s)
	}
	vals, abs := get(s, "values").List(), get(s, "isAbsent").List()
	wantV, wantA := []float64{1.5, 0, -2}, []bool{false, true, false}
	for i := range wantV {
		if vals.Get(i).Float() != wantV[i] || abs.Get(i).Bool() != wantA[i] {
			t.Fatalf("point %d: %v %v", i, vals.Get(i), abs.Get(i))
		}
	}
	// And the runtime's encoding decodes with ours.
	rb, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeMultiFetchV2(rb)
	if err != nil {
		t.Fatal(err)
	}
	want := []FetchResponseV2{{Name: "a.b", StartTime: 60, StopTime: 240, StepTime: 60, Values: wantV, IsAbsent: wantA}}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("got %+v", back)
	}
}

// TestV3AgainstProtobufRuntime does the same for v3 responses and requests.
func TestV3AgainstProtobufRuntime(t *testing.T) {
	fd := schema(t)
	in := FetchResponseV3{Name: "a.b", PathExpression: "a.*", ConsolidationFunc: "average", StartTime: 60, StopTime: 240, StepTime: 60,
		XFilesFactor: 0.5, Values: []float64{1, math.NaN(), 3}, AppliedFunctions: []string{"f"}, RequestStartTime: 1, RequestStopTime: 250}
	m := unmarshal(t, fd, "V3MultiFetch", AppendMultiFetchV3(nil, []FetchResponseV3{in}))
	s := get(m, "metrics").List().Get(0).Message()
	if get(s, "name").String() != "a.b" || get(s, "pathExpression").String() != "a.*" || get(s, "consolidationFunc").String() != "average" ||
		get(s, "startTime").Int() != 60 || get(s, "stopTime").Int() != 240 || get(s, "stepTime").Int() != 60 || get(s, "xFilesFactor").Float() != 0.5 ||
		get(s, "requestStartTime").Int() != 1 || get(s, "requestStopTime").Int() != 250 || get(s, "appliedFunctions").List().Get(0).String() != "f" {
		t.Fatalf("fields wrong: %v", s)
	}
	v := get(s, "values").List()
	if v.Len() != 3 || v.Get(0).Float() != 1 || !math.IsNaN(v.Get(1).Float()) || v.Get(2).Float() != 3 {
		t.Fatalf("values wrong")
	}

	// Request built by the runtime, decoded by us.
	req := dynamicpb.NewMessage(fd.Messages().ByName("MultiFetchRequest"))
	fr := dynamicpb.NewMessage(fd.Messages().ByName("FetchRequest"))
	set := func(m *dynamicpb.Message, name string, v protoreflect.Value) {
		m.Set(m.Descriptor().Fields().ByName(protoreflect.Name(name)), v)
	}
	set(fr, "name", protoreflect.ValueOfString("a.b.*"))
	set(fr, "startTime", protoreflect.ValueOfInt64(1000))
	set(fr, "stopTime", protoreflect.ValueOfInt64(2000))
	set(fr, "pathExpression", protoreflect.ValueOfString("sum(a.b.*)"))
	set(fr, "maxDataPoints", protoreflect.ValueOfInt64(300))
	ff := dynamicpb.NewMessage(fd.Messages().ByName("FilteringFunction"))
	set(ff, "name", protoreflect.ValueOfString("lowestCurrent"))
	ffl := ff.Mutable(ff.Descriptor().Fields().ByName("arguments")).List()
	ffl.Append(protoreflect.ValueOfString("2"))
	fr.Mutable(fr.Descriptor().Fields().ByName("filterFunctions")).List().Append(protoreflect.ValueOfMessage(ff))
	req.Mutable(req.Descriptor().Fields().ByName("metrics")).List().Append(protoreflect.ValueOfMessage(fr))
	rb, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeMultiFetchRequest(rb)
	if err != nil {
		t.Fatal(err)
	}
	want := []FetchRequest{{Name: "a.b.*", StartTime: 1000, StopTime: 2000, PathExpression: "sum(a.b.*)", MaxDataPoints: 300,
		FilterFunctions: []FilteringFunction{{Name: "lowestCurrent", Arguments: []string{"2"}}}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	if ours := unmarshal(t, fd, "MultiFetchRequest", AppendMultiFetchRequest(nil, want)); !proto.Equal(ours, req) {
		t.Fatalf("our request encoding decodes differently:\n%v\n%v", ours, req)
	}

	gb := AppendMultiGlobResponse(nil, []GlobResponse{{Name: "a.*", Matches: []GlobMatch{{Path: "a.b", IsLeaf: true}}}})
	gm := unmarshal(t, fd, "MultiGlobResponse", gb)
	g := get(gm, "metrics").List().Get(0).Message()
	mt := get(g, "matches").List().Get(0).Message()
	if get(g, "name").String() != "a.*" || get(mt, "path").String() != "a.b" || !get(mt, "isLeaf").Bool() {
		t.Fatalf("glob response wrong: %v", gm)
	}
}

func TestMultiGlobRequestRoundTrip(t *testing.T) {
	in := &MultiGlobRequest{Metrics: []string{"a.*", "b.{c,d}"}, StartTime: -5, StopTime: 1 << 40, HighPrecisionTimestamps: true}
	out, err := DecodeMultiGlobRequest(AppendMultiGlobRequest(nil, in))
	if err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string][]byte{
		"truncated tag":      {0x80},
		"truncated length":   {0x0a, 0x05, 1},
		"wrong wire type":    {0x0a, 0x02, 0x08, 0x01}, // metrics[0].name as varint
		"bad packed doubles": {0x0a, 0x03, 0x4a, 0x01, 0x00},
	}
	for name, b := range cases {
		if _, err := DecodeMultiFetchRequest(b); err == nil && name != "bad packed doubles" {
			t.Errorf("%s: request accepted", name)
		}
		if _, err := DecodeMultiFetchV3(b); err == nil {
			t.Errorf("%s: v3 response accepted", name)
		}
	}
	if _, err := DecodeMultiGlobRequest([]byte{0x0a, 0x7f}); err == nil {
		t.Error("truncated glob request accepted")
	}
}

func FuzzDecodeMultiFetchRequest(f *testing.F) {
	f.Add(AppendMultiFetchRequest(nil, []FetchRequest{{Name: "a.b", StartTime: 1, StopTime: 2, FilterFunctions: []FilteringFunction{{Name: "x", Arguments: []string{"1"}}}, MaxDataPoints: 5}}))
	f.Add([]byte{0x0a, 0x02, 0x08, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		reqs, err := DecodeMultiFetchRequest(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same value.
		again, err := DecodeMultiFetchRequest(AppendMultiFetchRequest(nil, reqs))
		if err != nil || len(again) != len(reqs) {
			t.Fatalf("re-decode: %v %d != %d", err, len(again), len(reqs))
		}
		for i := range reqs {
			if reqs[i].Name != again[i].Name || reqs[i].StartTime != again[i].StartTime || reqs[i].StopTime != again[i].StopTime || reqs[i].MaxDataPoints != again[i].MaxDataPoints {
				t.Fatalf("re-decode %d: %+v != %+v", i, again[i], reqs[i])
			}
		}
	})
}

func FuzzDecodeMultiGlobRequest(f *testing.F) {
	f.Add(AppendMultiGlobRequest(nil, &MultiGlobRequest{Metrics: []string{"a.*"}, StartTime: 1, StopTime: 2}))
	f.Add([]byte{0x0a, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeMultiGlobRequest(b)
		if err != nil {
			return
		}
		again, err := DecodeMultiGlobRequest(AppendMultiGlobRequest(nil, r))
		if err != nil || !reflect.DeepEqual(normalize(again), normalize(r)) {
			t.Fatalf("re-decode: %v %+v != %+v", err, again, r)
		}
	})
}

func normalize(r *MultiGlobRequest) *MultiGlobRequest {
	c := *r
	if len(c.Metrics) == 0 {
		c.Metrics = nil
	}
	return &c
}

// FuzzDecodeResponses runs the response decoders (used by clients and
// tests) on arbitrary input: they must not panic.
func FuzzDecodeResponses(f *testing.F) {
	f.Add(AppendMultiFetchV2(nil, []FetchResponseV2{{Name: "a", Values: []float64{1}, IsAbsent: []bool{false}}}))
	f.Add(AppendMultiFetchV3(nil, []FetchResponseV3{{Name: "a", Values: []float64{1}}}))
	f.Add(AppendMultiGlobResponse(nil, []GlobResponse{{Name: "a", Matches: []GlobMatch{{Path: "a"}}}}))
	f.Add(AppendCapabilityResponse(nil, &CapabilityResponse{SupportedProtocols: []string{"carbonapi_v3_pb"}, Name: "n"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeMultiFetchV2(b)       //nolint:errcheck
		DecodeMultiFetchV3(b)       //nolint:errcheck
		DecodeMultiGlobResponse(b)  //nolint:errcheck
		DecodeGlobResponse(b)       //nolint:errcheck
		DecodeCapabilityResponse(b) //nolint:errcheck
	})
}
