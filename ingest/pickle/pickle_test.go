package pickle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/plumbago/plumbago/query/pickleenc"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
)

// python runs a python3 script and returns its stdout; it skips the test when
// python3 is missing, unless CI=true.
func python(t testing.TB, script string) []byte {
	t.Helper()
	py := testenv.Command(t, "python3", "apt python3")
	cmd := exec.Command(py, "-c", script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v: %s", err, stderr.String())
	}
	return out
}

// pyFrames returns one pickle per line of hex printed by the script.
func pyFrames(t testing.TB, script string) [][]byte {
	var frames [][]byte
	for _, l := range strings.Fields(string(python(t, script))) {
		b, err := hex.DecodeString(l)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b)
	}
	return frames
}

type pt struct {
	name  string
	ts, v float64
}

func collect(t *testing.T, d *Decoder, frame []byte) ([]pt, int) {
	t.Helper()
	var got []pt
	n, bad, err := d.Points(frame, func(name []byte, ts, v float64) {
		got = append(got, pt{string(name), ts, v})
	})
	if err != nil {
		t.Fatalf("Points: %v", err)
	}
	if n != len(got) {
		t.Fatalf("n = %d, delivered %d", n, len(got))
	}
	return got, bad
}

const pyPoints = `
import pickle, sys
name = "carbon.agents.host-1.metricsReceived"
data = [
  (name, (1700000000, 1.5)),
  (name, (1700000010, 2)),
  ("app.req;env=prod;dc=eu", (1700000020.5, -3.25)),
  ("caf\u00e9.\u65e5\u672c", (1700000030, 10**20)),
  ("big", (1700000040, -(2**40))),
  ("flag", (1700000050, True)),
  ("strval", ("1700000060", "42.5")),
  ["list.form", [1700000070, 7]],
]
for p in range(0, 6):
    print(pickle.dumps(data, protocol=p).hex())
`

func TestPythonPicklesAllProtocols(t *testing.T) {
	frames := pyFrames(t, pyPoints)
	if len(frames) != 6 {
		t.Fatalf("got %d frames", len(frames))
	}
	want := []pt{
		{"carbon.agents.host-1.metricsReceived", 1700000000, 1.5},
		{"carbon.agents.host-1.metricsReceived", 1700000010, 2},
		{"app.req;env=prod;dc=eu", 1700000020.5, -3.25},
		{"café.日本", 1700000030, 1e20},
		{"big", 1700000040, -(1 << 40)},
		{"flag", 1700000050, 1},
		{"strval", 1700000060, 42.5},
		{"list.form", 1700000070, 7},
	}
	var d Decoder
	for proto, f := range frames {
		got, bad := collect(t, &d, f)
		if bad != 0 {
			t.Errorf("protocol %d: %d bad items", proto, bad)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("protocol %d:\n got %v\nwant %v", proto, got, want)
		}
	}
}

func TestPythonLargeBatchWithMemo(t *testing.T) {
	// 2000 points sharing 3 name objects: pickle memoizes the names, so
	// most items reference them with BINGET / LONG_BINGET.
	frames := pyFrames(t, `
import pickle
names = ["a.b.c", "d.e.f", "g.h.i"]
data = [(names[i % 3], (1700000000 + i, float(i) / 4)) for i in range(2000)]
for p in range(0, 6):
    print(pickle.dumps(data, protocol=p).hex())
`)
	var d Decoder
	for proto, f := range frames {
		got, bad := collect(t, &d, f)
		if bad != 0 || len(got) != 2000 {
			t.Fatalf("protocol %d: %d points, %d bad", proto, len(got), bad)
		}
		for i, p := range got {
			want := pt{[]string{"a.b.c", "d.e.f", "g.h.i"}[i%3], float64(1700000000 + i), float64(i) / 4}
			if p != want {
				t.Fatalf("protocol %d point %d: got %v want %v", proto, i, p, want)
			}
		}
	}
}

func TestPython2StyleStrings(t *testing.T) {
	// What a Python 2 client sends: protocol 0 STRING reprs and protocol 2
	// SHORT_BINSTRING / BINSTRING str objects.
	p0 := "(lp0\n(S'py2.metric'\np1\n(I1700000000\nF1.5\ntp2\ntp3\na(S'esc\\'aped\\x41\\n'\n(L1700000001L\nI00\ntta."
	p2 := "\x80\x02]q\x00(U\x05a.b.cq\x01J\x00\xf1SeG?\xf8\x00\x00\x00\x00\x00\x00\x86q\x02\x86q\x03T\x03\x00\x00\x00x.y(K\x01K\x02tq\x04\x86q\x05e."
	var d Decoder
	got, bad := collect(t, &d, []byte(p0))
	want := []pt{{"py2.metric", 1700000000, 1.5}, {"esc'apedA\n", 1700000001, 0}}
	if bad != 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("protocol 0: got %v (bad %d) want %v", got, bad, want)
	}
	got, bad = collect(t, &d, []byte(p2))
	want = []pt{{"a.b.c", 1700000000, 1.5}, {"x.y", 1, 2}}
	if bad != 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("protocol 2: got %v (bad %d) want %v", got, bad, want)
	}
}

func TestBadItemsSkipped(t *testing.T) {
	frames := pyFrames(t, `
import pickle
data = [("ok.1", (1, 2)), ("short",), (b"bytes.name", (3, 4)), ("none", (5, None)),
        ("notnum", (6, "abc")), (7, (8, 9)), ("nan", (10, float("nan"))), ("ok.2", (11, 12.5))]
print(pickle.dumps(data, protocol=4).hex())
`)
	var d Decoder
	got, bad := collect(t, &d, frames[0])
	want := []pt{{"ok.1", 1, 2}, {"bytes.name", 3, 4}, {"ok.2", 11, 12.5}}
	if fmt.Sprint(got) != fmt.Sprint(want) || bad != 5 {
		t.Errorf("got %v bad %d, want %v bad 5", got, bad, want)
	}
}

func TestMaliciousPythonPickles(t *testing.T) {
	frames := pyFrames(t, `
import pickle, os
class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/plumbago-pwned",))
print(pickle.dumps([("a", (1, Evil()))], protocol=0).hex())
print(pickle.dumps(Evil(), protocol=2).hex())
print(pickle.dumps([("a", (1, Evil()))], protocol=5).hex())
print(pickle.dumps([("a", (1, {1, 2}))], protocol=4).hex())
class Obj: pass
print(pickle.dumps(Obj(), protocol=2).hex())
print(pickle.dumps([("a", (1, b"raw"))], protocol=2).hex())  # bytes via _codecs.encode
deep = []
for i in range(100): deep = [deep]
print(pickle.dumps(deep, protocol=2).hex())
`)
	var d Decoder
	wantErr := []error{ErrUnsafe, ErrUnsafe, ErrUnsafe, ErrUnsafe, ErrUnsafe, ErrUnsafe, ErrLimit}
	for i, f := range frames {
		called := false
		_, _, err := d.Points(f, func([]byte, float64, float64) { called = true })
		if !errors.Is(err, wantErr[i]) {
			t.Errorf("frame %d: err = %v, want %v", i, err, wantErr[i])
		}
		if called {
			t.Errorf("frame %d: sink called for a rejected frame", i)
		}
	}
	if _, err := os.Stat("/tmp/plumbago-pwned"); err == nil {
		t.Fatal("payload ran")
	}
}

func TestHostileHandMade(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"classic os.system", "cos\nsystem\n(S'echo hi'\ntR.", ErrUnsafe},
		{"stack global", "\x80\x04\x8c\x02os\x8c\x06system\x93.", ErrUnsafe},
		{"build", "]b.", ErrUnsafe},
		{"inst", "(ios\nsystem\n.", ErrUnsafe},
		{"persid", "P1\n.", ErrUnsafe},
		{"ext1", "\x82\x01.", ErrUnsafe},
		{"dict in points", "}.", ErrUnsafe},
		{"binunicode8 huge", "\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.", ErrMalformed},
		{"binunicode huge", "X\xff\xff\xff\xff.", ErrMalformed},
		{"long4 huge", "\x8b\xff\xff\xff\x7f.", ErrMalformed},
		{"long4 negative", "\x8b\xff\xff\xff\xff.", ErrMalformed},
		{"frame overrun", "\x80\x04\x95\xff\xff\xff\xff\x00\x00\x00\x00N.", ErrMalformed},
		{"binget unset", "h\x05.", ErrMalformed},
		{"long_binput huge", "N r\xff\xff\xff\x7f.", ErrMalformed},
		{"memo index limit", "Nr\xff\xff\xff\x7f.", ErrLimit},
		{"deep marks", strings.Repeat("(", 10000) + ".", ErrLimit},
		{"deep lists", strings.Repeat("]", 100) + strings.Repeat("a", 99) + ".", ErrLimit},
		{"deep tuples", "N" + strings.Repeat("\x85", 100) + ".", ErrLimit},
		{"self append", "]q\x00h\x00a.", ErrUnsafe},
		{"cycle via memo", "]q\x00]q\x01ah\x01h\x00a0.", ErrUnsafe},
		{"no stop", "]", ErrMalformed},
		{"trailing", "N.N", ErrMalformed},
		{"two values", "NN.", ErrMalformed},
		{"empty", "", ErrMalformed},
		{"mark at stop", "(.", ErrMalformed},
		{"append no list", "NNa.", ErrMalformed},
		{"tuple underflow", "\x87.", ErrMalformed},
		{"tuple across mark", "N(N\x86.", ErrMalformed},
		{"bad utf8", "X\x02\x00\x00\x00\xff\xfe.", ErrMalformed},
		{"proto 6", "\x80\x06N.", ErrMalformed},
		{"not a list", "K\x01.", ErrMalformed},
		{"unknown op", "\xff.", ErrMalformed},
	}
	var d Decoder
	for _, c := range cases {
		_, _, err := d.Points([]byte(c.in), func([]byte, float64, float64) {
			t.Errorf("%s: sink called", c.name)
		})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestBillionLaughsIsCheap(t *testing.T) {
	// Each level is a tuple of two references to the previous one: 2^60
	// leaves if expanded, but values are shared, so decoding is linear and
	// the depth limit stops it anyway.
	var b strings.Builder
	b.WriteString("\x80\x02K\x01")
	for i := 0; i < 60; i++ {
		b.WriteString("q\x00h\x00\x86")
	}
	b.WriteString(".")
	var d Decoder
	_, err := d.Decode([]byte(b.String()))
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("err = %v, want ErrLimit", err)
	}
	d.Limits.MaxDepth = 100
	r, err := d.Decode([]byte(b.String()))
	if err != nil || r.Kind() != KindTuple || len(d.vals) != 61 {
		t.Fatalf("Decode = %v, %v, %d values", r.Kind(), err, len(d.vals))
	}
}

func TestFrameLen(t *testing.T) {
	if n, err := FrameLen([]byte{0, 0, 1}, DefaultMaxFrame); n != 0 || err != nil {
		t.Errorf("short: %d %v", n, err)
	}
	if n, err := FrameLen([]byte{0, 0, 1, 0, 'x'}, DefaultMaxFrame); n != 260 || err != nil {
		t.Errorf("256: %d %v", n, err)
	}
	if n, err := FrameLen([]byte{0, 0x10, 0, 0}, DefaultMaxFrame); n != 4+1<<20 || err != nil {
		t.Errorf("1MiB: %d %v", n, err)
	}
	if _, err := FrameLen([]byte{0, 0x10, 0, 1}, DefaultMaxFrame); !errors.Is(err, ErrLimit) {
		t.Errorf("1MiB+1: %v", err)
	}
	if _, err := FrameLen([]byte{0xff, 0xff, 0xff, 0xff}, DefaultMaxFrame); !errors.Is(err, ErrLimit) {
		t.Errorf("4GiB: %v", err)
	}
}

func TestEncoderReadByPython(t *testing.T) {
	var b []byte
	b = pickleenc.AppendFrame(b, func(b []byte) []byte {
		b = pickleenc.AppendProto(b)
		b = pickleenc.AppendEmptyDict(b)
		b = pickleenc.AppendMark(b)
		b = pickleenc.AppendString(b, "datapoints")
		b = pickleenc.AppendEmptyList(b)
		b = pickleenc.AppendMark(b)
		for _, ts := range []int64{0, 255, 256, 65535, 65536, -1, math.MaxInt32, math.MinInt32, 1 << 40, -(1 << 40), math.MaxInt64, math.MinInt64} {
			b = pickleenc.AppendInt(b, ts)
			b = pickleenc.AppendFloat(b, 0.1)
			b = pickleenc.AppendTuple2(b)
		}
		b = pickleenc.AppendAppends(b)
		b = pickleenc.AppendString(b, "snow☃")
		b = pickleenc.AppendMark(b)
		b = pickleenc.AppendNone(b)
		b = pickleenc.AppendBool(b, true)
		b = pickleenc.AppendBool(b, false)
		b = pickleenc.AppendFloat(b, math.Inf(-1))
		b = pickleenc.AppendTuple(b)
		b = pickleenc.AppendSetItems(b)
		return pickleenc.AppendStop(b)
	})
	out := python(t, `
import pickle, struct, sys
b = bytes.fromhex("`+hex.EncodeToString(b)+`")
n = struct.unpack("!L", b[:4])[0]
assert n == len(b) - 4, (n, len(b))
print(repr(pickle.loads(b[4:])))
`)
	want := "{'datapoints': [(0, 0.1), (255, 0.1), (256, 0.1), (65535, 0.1), (65536, 0.1), (-1, 0.1), (2147483647, 0.1), (-2147483648, 0.1), (1099511627776, 0.1), (-1099511627776, 0.1), (9223372036854775807, 0.1), (-9223372036854775808, 0.1)], 'snow☃': (None, True, False, -inf)}\n"
	if string(out) != want {
		t.Errorf("python read\n%s\nwant\n%s", out, want)
	}
	// And our own decoder reads it back.
	d := Decoder{AllowDicts: true}
	r, err := d.Decode(b[4:])
	if err != nil {
		t.Fatal(err)
	}
	dp, _ := r.Get("datapoints")
	if dp.Len() != 12 {
		t.Fatalf("datapoints len %d", dp.Len())
	}
	for i, want := range []int64{0, 255, 256, 65535, 65536, -1, math.MaxInt32, math.MinInt32, 1 << 40, -(1 << 40), math.MaxInt64, math.MinInt64} {
		if got, ok := dp.Index(i).Index(0).Int(); !ok || got != want {
			t.Errorf("int %d: got %d want %d", i, got, want)
		}
	}
}

func TestCarbonlinkRequestFromPython(t *testing.T) {
	frames := pyFrames(t, `
import pickle
for p in (2, 5):
    print(pickle.dumps(dict(type='cache-query', metric='a.b.c'), protocol=p).hex())
    print(pickle.dumps(dict(type='cache-query-bulk', metrics=['a.b', 'c;t=1']), protocol=p).hex())
    print(pickle.dumps(dict(type='get-metadata', metric='x', key='aggregationMethod'), protocol=p).hex())
print(pickle.dumps(dict(type='cache-query', metric='p0'), protocol=0).hex())
`)
	var d Decoder
	var req CarbonlinkRequest
	got := []string{}
	for _, f := range frames {
		if err := d.Request(f, &req); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s|%s|%q|%s", req.Type, req.Metric, req.Metrics, req.Key))
	}
	want := []string{
		`cache-query|a.b.c|[]|`, `cache-query-bulk||["a.b" "c;t=1"]|`, `get-metadata|x|[]|aggregationMethod`,
		`cache-query|a.b.c|[]|`, `cache-query-bulk||["a.b" "c;t=1"]|`, `get-metadata|x|[]|aggregationMethod`,
		`cache-query|p0|[]|`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if d.AllowDicts {
		t.Error("Request left AllowDicts set")
	}
	if err := d.Request([]byte("]."), &req); !errors.Is(err, ErrMalformed) {
		t.Errorf("list request: %v", err)
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	frames := pyFrames(t, `
import pickle
data = [("servers.host%d.cpu.user" % (i % 50), (1700000000 + i, i * 0.5)) for i in range(500)]
print(pickle.dumps(data, protocol=2).hex())
`)
	var d Decoder
	sum := 0.0
	sink := func(name []byte, ts, v float64) { sum += v }
	d.Points(frames[0], sink)
	allocs := testing.AllocsPerRun(20, func() {
		if _, _, err := d.Points(frames[0], sink); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocs per frame, want 0", allocs)
	}
}

func TestHugeFrameIsNotRetained(t *testing.T) {
	// A 1 MiB frame of one-byte values: every value costs a byte of input,
	// so the value table is bounded by the frame; after it, a small frame
	// releases the big table.
	big := "](" + strings.Repeat("N", 1<<20) + "e."
	var d Decoder
	r, err := d.Decode([]byte(big))
	if err != nil || r.Len() != 1<<20 {
		t.Fatalf("big frame: %v, len %d", err, r.Len())
	}
	if _, err := d.Decode([]byte("]K\x01a.")); err != nil {
		t.Fatal(err)
	}
	if cap(d.vals) > retainValues || cap(d.stack) > retainValues {
		t.Errorf("kept %d values, %d stack slots after a small frame", cap(d.vals), cap(d.stack))
	}
	d.Limits.MaxValues = 1000
	if _, err := d.Decode([]byte(big)); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxValues: %v", err)
	}
}
