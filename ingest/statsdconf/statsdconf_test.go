package statsdconf

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
)

// commented is a config.js as people write them: comments, expressions,
// trailing commas, quoted and bare keys.
const commented = `/* statsd for the app servers */
{
  graphitePort: 2000 + 3,            // carbon line port
  graphiteHost: "127.0.0.1",
  port: 8125,
  flushInterval: 10 * 1000,
  "percentThreshold": [90, 95].concat([99.9]),
  deleteIdleStats: !0,
  backends: [ "./backends/graphite" ],
  graphite: {
    legacyNamespace: false,
    globalPrefix: ["stats", "prod"].join("."),
  },
}
`

// nodeEval evaluates a file with node exactly as statsd's lib/config.js
// does, and returns the JSON of the result.
func nodeEval(t *testing.T, path string) string {
	t.Helper()
	node := testenv.Command(t, "node", "apt nodejs")
	out, err := exec.Command(node, "-e", `const fs = require('fs'); let config = {};
const data = fs.readFileSync(process.argv[1]);
process.stdout.write(JSON.stringify(eval('config = ' + data)));`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v %s", err, out)
	}
	return string(out)
}

func canonical(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSameAsNode(t *testing.T) {
	dir := t.TempDir()
	c := filepath.Join(dir, "config.js")
	if err := os.WriteFile(c, []byte(commented), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{testenv.EtsyStatsdFile(t, "exampleConfig.js"), c} {
		f, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(f.Root)
		if want := canonical(t, nodeEval(t, path)); string(got) != want {
			t.Errorf("%s:\n got  %s\n node %s", path, got, want)
		}
	}
}

func TestCommented(t *testing.T) {
	f, err := Eval("config.js", []byte(commented), DefaultTimeLimit)
	if err != nil {
		t.Fatal(err)
	}
	if f.Root["graphitePort"] != int64(2003) || f.Root["flushInterval"] != int64(10000) {
		t.Fatalf("root %v", f.Root)
	}
	g := f.Root["graphite"].(map[string]any)
	if g["globalPrefix"] != "stats.prod" {
		t.Fatalf("graphite %v", g)
	}
	for path, want := range map[string]string{"graphitePort": "config.js:3", "percentThreshold": "config.js:7",
		"graphite.globalPrefix": "config.js:12", "nothere": "config.js"} {
		if got := f.Where(path); got != want {
			t.Errorf("Where(%s) = %s; want %s", path, got, want)
		}
	}
}

func TestRefused(t *testing.T) {
	for src, want := range map[string]string{
		`require("fs")`:                   "require is not defined",
		`{ a: function() {} }`:            "a: a Function is not plain data",
		`{ a: /x/ }`:                      "a: a RegExp is not plain data",
		`[1, 2]`:                          "evaluates to a Array, not an object",
		`(function(){ while(true){} })()`: "took longer than",
		`{ a: 1 `:                         "SyntaxError",
		`(function(){ var s = "x"; while(true){ s = s + s } })()`: "evaluation stopped",
	} {
		_, err := Eval("c.js", []byte(src), 300*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Eval(%q) = %v; want an error with %q", src, err, want)
		}
	}
}

func TestProcessEnv(t *testing.T) {
	t.Setenv("GRAPHITE_HOST", "carbon.example")
	f, err := Eval("c.js", []byte(`{ graphiteHost: process.env.GRAPHITE_HOST || "localhost" }`), DefaultTimeLimit)
	if err != nil || f.Root["graphiteHost"] != "carbon.example" {
		t.Fatalf("%v %v", f, err)
	}
}

func FuzzEval(f *testing.F) {
	f.Add(commented)
	f.Add(`{ a: [1, {b: null}], "c": 1e400, d: -0, e: 0.5 }`)
	f.Add(`{ a: (function f(n){ return n ? f(n-1) : 0 })(100000) }`)
	f.Fuzz(func(t *testing.T, src string) {
		fl, err := Eval("fuzz.js", []byte(src), 100*time.Millisecond)
		if err != nil {
			return
		}
		if _, err := json.Marshal(fl.Root); err != nil && !strings.Contains(err.Error(), "unsupported value") {
			t.Fatalf("root not plain data: %v", err)
		}
		for k := range fl.Root {
			_ = fl.Line(k)
		}
	})
}
