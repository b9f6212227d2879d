package api

import (
	"bytes"
	"mime/multipart"
	"strconv"
	"testing"
)

// TestMultipartPost checks POST bodies encoded as multipart/form-data
// (what graphite-web's RemoteFinder sends with REMOTE_STORE_USE_POST)
// answer exactly like the same parameters in the URL.
func TestMultipartPost(t *testing.T) {
	srv := carbonapiServer(t)
	from, until := strconv.Itoa(pbNow-60), strconv.Itoa(pbNow)
	for _, c := range []struct {
		path   string
		fields [][2]string
	}{
		{"/render/", [][2]string{{"format", "json"}, {"local", "1"}, {"noCache", "1"}, {"from", from}, {"until", until}, {"target", "a.b.c1"}, {"target", "a.d"}}},
		{"/metrics/find/", [][2]string{{"local", "1"}, {"format", "completer"}, {"query", "a.*"}}},
	} {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		uri := c.path + "?"
		for _, f := range c.fields {
			if err := w.WriteField(f[0], f[1]); err != nil {
				t.Fatal(err)
			}
			uri += f[0] + "=" + f[1] + "&"
		}
		w.Close()
		status, _, got := srv.do(t, "POST", c.path, w.FormDataContentType(), body.String())
		wstatus, _, want := srv.get(t, uri)
		if status != 200 || wstatus != 200 || !bytes.Equal(got, want) {
			t.Errorf("%s: multipart POST %d %s\nGET %d %s", c.path, status, got, wstatus, want)
		}
	}
	// The render answer itself is pinned so the comparison cannot pass on two errors.
	_, _, got := srv.get(t, "/render/?format=json&target=a.d&from="+from+"&until="+until)
	want := `[{"target": "a.d", "tags": {"name": "a.d"}, "datapoints": [[null, 1699999950], [null, 1699999960], [null, 1699999970], [42.0, 1699999980], [null, 1699999990], [null, 1700000000]]}]`
	if string(got) != want {
		t.Errorf("render a.d:\n got %s\nwant %s", got, want)
	}
}
