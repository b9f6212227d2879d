// Package rewrite implements carbon's rewrite-rules.conf ([pre] rules applied
// on receipt, [post] rules applied to aggregator output) and the whitelist /
// blacklist files (one regular expression per line).
//
// Patterns are Python regular expressions; they are compiled with Go's RE2
// syntax, which accepts the common subset (no lookaround, no backreferences
// inside patterns). Replacement strings use Python's syntax (\1, \g<1>,
// \g<name>, \n, \\) and are translated to Go's expansion templates. Like
// carbon, a rule whose pattern does not compile is skipped and reported, not
// fatal; Parse returns the usable rules together with an error describing
// the skipped lines.
package rewrite
