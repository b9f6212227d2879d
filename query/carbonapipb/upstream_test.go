package carbonapipb

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	v2 "github.com/go-graphite/protocol/carbonapi_v2_pb"
	v3 "github.com/go-graphite/protocol/carbonapi_v3_pb"
)

// These tests use go-graphite/protocol's generated code (what carbonapi
// and go-carbon link) as the oracle: our bytes must equal its Marshal
// output, and each side must decode the other's messages.

func TestUpstreamV2Bytes(t *testing.T) {
	ours := AppendMultiFetchV2(nil, []FetchResponseV2{
		{Name: "a.b", StartTime: 60, StopTime: 240, StepTime: 60, Values: []float64{1.5, 0, -2}, IsAbsent: []bool{false, true, false}},
		{Name: "x", StartTime: -10, StopTime: 0, StepTime: 10},
	})
	up := &v2.MultiFetchResponse{Metrics: []v2.FetchResponse{
		{Name: "a.b", StartTime: 60, StopTime: 240, StepTime: 60, Values: []float64{1.5, 0, -2}, IsAbsent: []bool{false, true, false}},
		{Name: "x", StartTime: -10, StopTime: 0, StepTime: 10},
	}}
	want, err := up.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, want) {
		t.Fatalf("v2 MultiFetchResponse\n ours % x\nwant % x", ours, want)
	}
	g := &v2.GlobResponse{Name: "a.*", Matches: []v2.GlobMatch{{Path: "a.b", IsLeaf: false}, {Path: "a.c", IsLeaf: true}}}
	want, _ = g.Marshal()
	if ours := AppendGlobResponse(nil, &GlobResponse{Name: "a.*", Matches: []GlobMatch{{Path: "a.b"}, {Path: "a.c", IsLeaf: true}}}); !bytes.Equal(ours, want) {
		t.Fatalf("v2 GlobResponse\n ours % x\nwant % x", ours, want)
	}
}

func TestUpstreamV3Bytes(t *testing.T) {
	resp := FetchResponseV3{Name: "a.b", PathExpression: "a.*", ConsolidationFunc: "average", StartTime: 60, StopTime: 240, StepTime: 60,
		XFilesFactor: 0.5, HighPrecisionTimestamps: true, Values: []float64{1, math.NaN(), 3}, AppliedFunctions: []string{"f", "g"}, RequestStartTime: 1, RequestStopTime: 250}
	up := &v3.MultiFetchResponse{Metrics: []v3.FetchResponse{{Name: "a.b", PathExpression: "a.*", ConsolidationFunc: "average", StartTime: 60, StopTime: 240, StepTime: 60,
		XFilesFactor: 0.5, HighPrecisionTimestamps: true, Values: []float64{1, math.NaN(), 3}, AppliedFunctions: []string{"f", "g"}, RequestStartTime: 1, RequestStopTime: 250}}}
	want, err := up.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if ours := AppendMultiFetchV3(nil, []FetchResponseV3{resp}); !bytes.Equal(ours, want) {
		t.Fatalf("v3 MultiFetchResponse\n ours % x\nwant % x", ours, want)
	}

	mg := &v3.MultiGlobResponse{Metrics: []v3.GlobResponse{{Name: "a.*", Matches: []v3.GlobMatch{{Path: "a.b", IsLeaf: true}}}, {Name: "none"}}}
	want, _ = mg.Marshal()
	if ours := AppendMultiGlobResponse(nil, []GlobResponse{{Name: "a.*", Matches: []GlobMatch{{Path: "a.b", IsLeaf: true}}}, {Name: "none"}}); !bytes.Equal(ours, want) {
		t.Fatalf("v3 MultiGlobResponse\n ours % x\nwant % x", ours, want)
	}

	cr := &v3.CapabilityResponse{SupportedProtocols: []string{"carbonapi_v3_pb", "carbonapi_v2_pb"}, Name: "h", SupportFilteringFunctions: true}
	want, _ = cr.Marshal()
	if ours := AppendCapabilityResponse(nil, &CapabilityResponse{SupportedProtocols: []string{"carbonapi_v3_pb", "carbonapi_v2_pb"}, Name: "h", SupportFilteringFunctions: true}); !bytes.Equal(ours, want) {
		t.Fatalf("v3 CapabilityResponse\n ours % x\nwant % x", ours, want)
	}
}

// TestUpstreamV3Requests decodes requests marshalled by carbonapi's code.
func TestUpstreamV3Requests(t *testing.T) {
	up := &v3.MultiFetchRequest{Metrics: []v3.FetchRequest{
		{Name: "a.b.*", StartTime: 1000, StopTime: 2000, PathExpression: "sumSeries(a.b.*)", MaxDataPoints: 300,
			FilterFunctions: []*v3.FilteringFunction{{Name: "highestMax", Arguments: []string{"3"}}}},
		{Name: "c", StartTime: -1, StopTime: 1 << 40, HighPrecisionTimestamps: true},
	}}
	b, err := up.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeMultiFetchRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []FetchRequest{
		{Name: "a.b.*", StartTime: 1000, StopTime: 2000, PathExpression: "sumSeries(a.b.*)", MaxDataPoints: 300,
			FilterFunctions: []FilteringFunction{{Name: "highestMax", Arguments: []string{"3"}}}},
		{Name: "c", StartTime: -1, StopTime: 1 << 40, HighPrecisionTimestamps: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	if ours := AppendMultiFetchRequest(nil, want); !bytes.Equal(ours, b) {
		t.Fatalf("MultiFetchRequest\n ours % x\nwant % x", ours, b)
	}

	ug := &v3.MultiGlobRequest{Metrics: []string{"a.*", "b.{c,d}"}, StartTime: 5, StopTime: 6}
	b, _ = ug.Marshal()
	g, err := DecodeMultiGlobRequest(b)
	if err != nil || !reflect.DeepEqual(g, &MultiGlobRequest{Metrics: []string{"a.*", "b.{c,d}"}, StartTime: 5, StopTime: 6}) {
		t.Fatalf("%+v %v", g, err)
	}
	// And carbonapi's decoder reads our responses.
	var back v3.MultiFetchResponse
	if err := back.Unmarshal(AppendMultiFetchV3(nil, []FetchResponseV3{{Name: "n", StepTime: 10, Values: []float64{2}}})); err != nil || back.Metrics[0].Name != "n" || back.Metrics[0].Values[0] != 2 || back.Metrics[0].StepTime != 10 {
		t.Fatalf("%+v %v", back, err)
	}
}
