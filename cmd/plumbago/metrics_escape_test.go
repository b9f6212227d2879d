package main

import "testing"

func TestEscapeLabel(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           "plain",
		"":                "",
		`a"b`:             `a\"b`,
		`back\slash`:      `back\\slash`,
		"line\nbreak":     `line\nbreak`,
		"all\\\"\n":       `all\\\"\n`,
		"carbon-tcp:2003": "carbon-tcp:2003",
	} {
		if got := escapeLabel(in); got != want {
			t.Errorf("escapeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
