#!/usr/bin/env bash
# Builds cmd/plumbago as it ships: CGO_ENABLED=0 and -trimpath, as `make
# build` and deploy/Dockerfile do. Every benchmark script and the tests that
# run the binary (cmd/plumbago's end-to-end tests, loadtest's) build through
# this script, so they measure and test the shipped build.
#
# It matters: with gcc installed a plain `go build` turns cgo on, and pebble
# then allocates its memtables and block cache with C malloc (its
# internal/manual), memory that glibc keeps in its arenas after pebble frees
# it and that the Go runtime can neither count nor return. Without cgo that
# memory is Go's: in the heap goal, and returned by the scavenger and
# internal/memrelease (docs/operations.md, "Memory").
#
# usage: scripts/build-plumbago.sh OUTPUT [go build flags...]
#        scripts/build-plumbago.sh --settings BINARY   prints a binary's cgo and
#          -trimpath settings (go version -m): "-trimpath=true CGO_ENABLED=0" as
#          shipped; the benchmark scripts write it beside their figures
set -euo pipefail
if [ "${1:-}" = --settings ]; then
	settings=$(go version -m "${2:?usage: build-plumbago.sh --settings BINARY}" |
		awk '$1 == "build" && ($2 ~ /^CGO_ENABLED=/ || $2 ~ /^-trimpath=/) {printf "%s%s", sep, $2; sep = " "}')
	echo "$settings"
	exit
fi
out=${1:?usage: build-plumbago.sh OUTPUT [go build flags...]}
shift
case $out in /*) ;; *) out=$PWD/$out ;; esac
cd "$(dirname "$0")/.."
CGO_ENABLED=0 exec go build -trimpath "$@" -o "$out" ./cmd/plumbago
