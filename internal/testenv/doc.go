// Package testenv is how a test says it needs a tool from outside Go
// (Debian's graphite-web, carbon, python3-whisper, node, etsy statsd,
// htpasswd, ...): Command, Files and Python find the tool or call Missing,
// which skips the test on a developer's machine and fails it when the
// environment variable CI is "true". CI runs scripts/test-deps.sh, which
// installs every such tool, so there a missing tool is a broken setup and
// must not turn into a silently skipped test.
package testenv
