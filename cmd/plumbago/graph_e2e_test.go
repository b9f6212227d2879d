package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGraphsEndToEnd: the built binary draws /render as graphite-web
// does: PNG without a format (330×250), SVG ending with the metadata
// script, PDF, and 400 naming a bad graph parameter. The requests share
// one keep-alive connection, whose response buffer the pictures are
// written into: a larger PNG, JSON and the first PNG again after them
// come out whole and unchanged.
func TestGraphsEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	p := startPlumbago(t, bin, "--data-dir", t.TempDir())
	defer p.stop(t)
	now := time.Now().Unix()
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 30; i++ {
		fmt.Fprintf(c, "g.e2e.a %d %d\n", i%7, now-now%60-i*60)
	}
	c.Close()
	get := func(q string) (int, string, []byte) {
		t.Helper()
		resp, err := http.Get("http://" + p.http + "/render?target=g.e2e.a&from=-1h&noCache=1" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, b := get("&format=json")
		if bytes.Contains(b, []byte("6.0")) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	status, ct, body := get("")
	if status != 200 || ct != "image/png" {
		t.Fatalf("no format: %d %s %.200q", status, ct, body)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil || img.Bounds().Dx() != 330 || img.Bounds().Dy() != 250 {
		t.Fatalf("png: %v %v", err, img.Bounds())
	}
	status, ct, body = get("&format=svg&width=400&height=300")
	if status != 200 || ct != "image/svg+xml" || !bytes.Contains(body, []byte(`metadata = {"x": {`)) ||
		!bytes.Contains(body, []byte(`"name": "g.e2e.a"`)) || !bytes.HasSuffix(body, []byte("</script>\n</svg>")) {
		t.Fatalf("svg: %d %s %.300s", status, ct, body)
	}
	status, ct, body = get("&format=pdf")
	if status != 200 || ct != "application/x-pdf" || !bytes.HasPrefix(body, []byte("%PDF-1.4")) {
		t.Fatalf("pdf: %d %s %.100q", status, ct, body)
	}
	status, _, body = get("&lineMode=wiggly")
	if status != 400 || !strings.Contains(string(body), "lineMode") {
		t.Fatalf("bad lineMode: %d %s", status, body)
	}
	pin := fmt.Sprintf("&now=%d", now) // the same picture each time
	status, _, body = get(pin)
	first, err := png.Decode(bytes.NewReader(body))
	if status != 200 || err != nil {
		t.Fatalf("png: %d %v", status, err)
	}
	status, _, body = get(pin + "&width=800&height=600")
	if img, err := png.Decode(bytes.NewReader(body)); status != 200 || err != nil || img.Bounds().Dx() != 800 {
		t.Fatalf("800×600 png: %d %v", status, err)
	}
	status, _, body = get("&format=json")
	if status != 200 || !bytes.HasPrefix(body, []byte(`[{"target": "g.e2e.a"`)) || !bytes.HasSuffix(body, []byte("}]")) {
		t.Fatalf("json after a png: %d %.200q", status, body)
	}
	status, _, body = get(pin)
	again, err := png.Decode(bytes.NewReader(body))
	if status != 200 || err != nil || !samePixels(first, again) {
		t.Fatalf("the same png again: %d %v", status, err)
	}
}

// samePixels reports whether two pictures have the same size and pixels.
func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}
