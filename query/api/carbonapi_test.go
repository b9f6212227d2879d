package api

import (
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/carbonapipb"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/whisper"
	"github.com/valyala/fasthttp"
)

const pbNow = 1_700_000_000 // multiple of the 10 s step

// carbonapiServer stores a.b.c1, a.b.c2 and a.d in a real whisper store
// (10 s step) and serves the API over it.
func carbonapiServer(t *testing.T) *testServer {
	t.Helper()
	st, err := whisper.Open(whisper.Options{Dir: t.TempDir(), Index: index.New(), Now: func() int64 { return pbNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &storage.Batch{Series: []storage.SeriesPoints{
		{Name: "a.b.c1", Points: []storage.Point{{Timestamp: pbNow - 50, Value: 1.5}, {Timestamp: pbNow - 30, Value: -3}, {Timestamp: pbNow - 10, Value: 7}}},
		{Name: "a.b.c2", Points: []storage.Point{{Timestamp: pbNow - 40, Value: 2}}},
		{Name: "a.d", Points: []storage.Point{{Timestamp: pbNow - 20, Value: 42}}},
	}}
	if err := st.Write(b); err != nil {
		t.Fatal(err)
	}
	return startServer(t, st, time.Unix(pbNow, 0))
}

var nan = math.NaN()

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestCarbonapiV2Find(t *testing.T) {
	srv := carbonapiServer(t)
	for _, format := range []string{"protobuf", "carbonapi_v2_pb", "pb3"} {
		status, ct, body := srv.get(t, "/metrics/find/?format="+format+"&query=a.*")
		if status != 200 || ct != "application/x-protobuf" {
			t.Fatalf("%s: %d %s %s", format, status, ct, body)
		}
		g, err := carbonapipb.DecodeGlobResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		want := &carbonapipb.GlobResponse{Name: "a.*", Matches: []carbonapipb.GlobMatch{{Path: "a.b"}, {Path: "a.d", IsLeaf: true}}}
		if !reflect.DeepEqual(g, want) {
			t.Fatalf("%s: got %+v", format, g)
		}
	}
	if status, _, _ := srv.get(t, "/metrics/find/?format=protobuf&query=nothing.*"); status != 404 {
		t.Fatalf("empty find: %d, want 404", status)
	}
}

func TestCarbonapiV2Render(t *testing.T) {
	srv := carbonapiServer(t)
	uri := "/render/?format=protobuf&target=a.b.*&target=a.d&from=" + strconv.Itoa(pbNow-60) + "&until=" + strconv.Itoa(pbNow)
	status, ct, body := srv.get(t, uri)
	if status != 200 || ct != "application/x-protobuf" {
		t.Fatalf("%d %s %s", status, ct, body)
	}
	got, err := carbonapipb.DecodeMultiFetchV2(body)
	if err != nil {
		t.Fatal(err)
	}
	start, stop := int32(pbNow-50), int32(pbNow+10)
	want := []carbonapipb.FetchResponseV2{
		{Name: "a.b.c1", StartTime: start, StopTime: stop, StepTime: 10, Values: []float64{1.5, 0, -3, 0, 7, 0}, IsAbsent: []bool{false, true, false, true, false, true}},
		{Name: "a.b.c2", StartTime: start, StopTime: stop, StepTime: 10, Values: []float64{0, 2, 0, 0, 0, 0}, IsAbsent: []bool{true, false, true, true, true, true}},
		{Name: "a.d", StartTime: start, StopTime: stop, StepTime: 10, Values: []float64{0, 0, 0, 42, 0, 0}, IsAbsent: []bool{true, true, true, false, true, true}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if status, _, _ := srv.get(t, "/render/?format=protobuf&target=none.*&from=-1h"); status != 404 {
		t.Fatalf("empty render: %d, want 404", status)
	}
}

func TestCarbonapiV3(t *testing.T) {
	srv := carbonapiServer(t)
	// Find: MultiGlobRequest body on GET and POST.
	body := string(carbonapipb.AppendMultiGlobRequest(nil, &carbonapipb.MultiGlobRequest{Metrics: []string{"a.b.*", "a.*"}, StartTime: pbNow - 3600, StopTime: pbNow}))
	for _, method := range []string{"GET", "POST"} {
		status, ct, out := srv.do(t, method, "/metrics/find/?format=carbonapi_v3_pb", "application/x-carbonapi-v3-pb", body)
		if status != 200 || ct != "application/x-carbonapi-v3-pb" {
			t.Fatalf("%s find: %d %s %s", method, status, ct, out)
		}
		got, err := carbonapipb.DecodeMultiGlobResponse(out)
		if err != nil {
			t.Fatal(err)
		}
		want := []carbonapipb.GlobResponse{
			{Name: "a.b.*", Matches: []carbonapipb.GlobMatch{{Path: "a.b.c1", IsLeaf: true}, {Path: "a.b.c2", IsLeaf: true}}},
			{Name: "a.*", Matches: []carbonapipb.GlobMatch{{Path: "a.b"}, {Path: "a.d", IsLeaf: true}}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s find: got %+v", method, got)
		}
	}

	// Render: MultiFetchRequest body.
	req := []carbonapipb.FetchRequest{
		{Name: "a.b.*", StartTime: pbNow - 60, StopTime: pbNow, PathExpression: "sumSeries(a.b.*)", MaxDataPoints: 100},
		{Name: "a.d", StartTime: pbNow - 30, StopTime: pbNow - 10},
	}
	for _, method := range []string{"GET", "POST"} {
		status, ct, out := srv.do(t, method, "/render/?format=carbonapi_v3_pb", "application/x-carbonapi-v3-pb", string(carbonapipb.AppendMultiFetchRequest(nil, req)))
		if status != 200 || ct != "application/x-carbonapi-v3-pb" {
			t.Fatalf("%s render: %d %s %s", method, status, ct, out)
		}
		got, err := carbonapipb.DecodeMultiFetchV3(out)
		if err != nil {
			t.Fatal(err)
		}
		want := []carbonapipb.FetchResponseV3{
			{Name: "a.b.c1", PathExpression: "sumSeries(a.b.*)", ConsolidationFunc: "average", StartTime: pbNow - 50, StopTime: pbNow + 10, StepTime: 10,
				Values: []float64{1.5, nan, -3, nan, 7, nan}, RequestStartTime: pbNow - 60, RequestStopTime: pbNow},
			{Name: "a.b.c2", PathExpression: "sumSeries(a.b.*)", ConsolidationFunc: "average", StartTime: pbNow - 50, StopTime: pbNow + 10, StepTime: 10,
				Values: []float64{nan, 2, nan, nan, nan, nan}, RequestStartTime: pbNow - 60, RequestStopTime: pbNow},
			{Name: "a.d", PathExpression: "a.d", ConsolidationFunc: "average", StartTime: pbNow - 20, StopTime: pbNow, StepTime: 10,
				Values: []float64{42, nan}, RequestStartTime: pbNow - 30, RequestStopTime: pbNow - 10},
		}
		if len(got) != len(want) {
			t.Fatalf("%s render: %d series, want %d: %+v", method, len(got), len(want), got)
		}
		for i := range want {
			g, w := got[i], want[i]
			if !sameFloats(g.Values, w.Values) {
				t.Errorf("%s %s values %v, want %v", method, w.Name, g.Values, w.Values)
			}
			g.Values, w.Values = nil, nil
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s render %d:\n got %+v\nwant %+v", method, i, g, w)
			}
		}
	}

	// URL parameters work too (no body).
	status, _, out := srv.get(t, "/render/?format=carbonapi_v3_pb&target=a.d&from="+strconv.Itoa(pbNow-30)+"&until="+strconv.Itoa(pbNow-10))
	if got, err := carbonapipb.DecodeMultiFetchV3(out); status != 200 || err != nil || len(got) != 1 || got[0].Name != "a.d" || !sameFloats(got[0].Values, []float64{42, nan}) {
		t.Fatalf("url render: %d %v %+v", status, err, got)
	}

	// Hostile bodies are 400, not panics.
	for _, bad := range []string{"\x80", "\x0a\x05\x01", "\x0a\x02\x08\x01"} {
		if status, _, _ := srv.do(t, "POST", "/render/?format=carbonapi_v3_pb", "application/x-carbonapi-v3-pb", bad); status != 400 {
			t.Errorf("bad render body %q: %d", bad, status)
		}
		if status, _, _ := srv.do(t, "POST", "/metrics/find/?format=carbonapi_v3_pb", "application/x-carbonapi-v3-pb", bad); status != 400 && bad != "\x0a\x02\x08\x01" {
			t.Errorf("bad find body %q: %d", bad, status)
		}
	}
}

func TestCarbonapiCapabilities(t *testing.T) {
	srv := carbonapiServer(t)
	status, ct, body := srv.get(t, "/_internal/capabilities/")
	if status != 200 || ct != "application/x-carbonapi-v3-pb" {
		t.Fatalf("%d %s", status, ct)
	}
	c, err := carbonapipb.DecodeCapabilityResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.SupportedProtocols, []string{"carbonapi_v3_pb", "carbonapi_v2_pb", "graphite-web-pickle", "graphite-web-msgpack"}) || c.Name == "" {
		t.Fatalf("%+v", c)
	}
}

// TestCarbonapiLeavesOtherFormats checks the hook does not take over the
// graphite-web formats.
func TestCarbonapiLeavesOtherFormats(t *testing.T) {
	srv := carbonapiServer(t)
	status, ct, body := srv.get(t, "/metrics/find?query=a.*&format=completer")
	if status != 200 || ct != "application/json" || string(body) == "" {
		t.Fatalf("%d %s %s", status, ct, body)
	}
}

// TestCarbonapiV3Expand sends what carbonapi's v3 Expand sends: GET
// /metrics/expand/ with no format parameter, a MultiGlobRequest body and
// Accept: application/x-carbonapi-v3-pb.
func TestCarbonapiV3Expand(t *testing.T) {
	srv := carbonapiServer(t)
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://graphite/metrics/expand/")
	req.Header.Set("Accept", "application/x-carbonapi-v3-pb")
	req.SetBody(carbonapipb.AppendMultiGlobRequest(nil, &carbonapipb.MultiGlobRequest{Metrics: []string{"a.b.*"}}))
	if err := srv.client.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	got, err := carbonapipb.DecodeMultiGlobResponse(resp.Body())
	want := []carbonapipb.GlobResponse{{Name: "a.b.*", Matches: []carbonapipb.GlobMatch{{Path: "a.b.c1", IsLeaf: true}, {Path: "a.b.c2", IsLeaf: true}}}}
	if resp.StatusCode() != 200 || err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%d %v %+v", resp.StatusCode(), err, got)
	}
	// Without the header, /metrics/expand stays graphite-web's JSON.
	status, ct, body := srv.get(t, "/metrics/expand?query=a.b.*")
	if status != 200 || ct != "application/json" || string(body) != `{"results": ["a.b.c1", "a.b.c2"]}` {
		t.Fatalf("%d %s %s", status, ct, body)
	}
}

// TestCarbonapiLimits checks the series and point limits apply to the
// protobuf render path.
func TestCarbonapiLimits(t *testing.T) {
	st, err := whisper.Open(whisper.Options{Dir: t.TempDir(), Index: index.New(), Now: func() int64 { return pbNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Write(&storage.Batch{Series: []storage.SeriesPoints{
		{Name: "l.a", Points: []storage.Point{{Timestamp: pbNow - 10, Value: 1}}},
		{Name: "l.b", Points: []storage.Point{{Timestamp: pbNow - 10, Value: 2}}},
	}}); err != nil {
		t.Fatal(err)
	}
	uri := "/render/?format=protobuf&target=l.*&from=" + strconv.Itoa(pbNow-60) + "&until=" + strconv.Itoa(pbNow)
	for _, c := range []struct {
		limits query.Limits
		status int
	}{{query.Limits{}, 200}, {query.Limits{MaxSeries: 1}, 400}, {query.Limits{MaxPoints: 11}, 400}, {query.Limits{MaxPoints: 12}, 200}} {
		srv := startServerWith(t, st, Options{Limits: c.limits}, time.Unix(pbNow, 0))
		if status, _, body := srv.get(t, uri); status != c.status {
			t.Errorf("%+v: %d %s, want %d", c.limits, status, body, c.status)
		}
	}
}
