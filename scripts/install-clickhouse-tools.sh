#!/usr/bin/env bash
# Builds carbon-clickhouse v0.11.0, graphite-clickhouse v0.12.0 and
# carbonapi v0.17.0 (all Go, from the Go module proxy) into
# $PLUMBAGO_TOOLS_BIN (default ~/.cache/plumbago/bin), where cmd/plumbago's
# TestCarbonClickHouseInterop and the loadtest comparisons in
# docs/clickhouse.md (TestClickHouseFigures, TestClickHouseQueryFigures)
# find them. carbon-clickhouse and graphite-clickhouse are the last
# releases that work with Debian's ClickHouse 18.16 and that the proxy
# serves; carbonapi (graphite functions in front of graphite-clickhouse,
# which evaluates none) talks only to graphite-clickhouse; v0.17.0 builds
# with this Go. `go install module@version` cannot be used: the proxy
# refuses these modules' version lists, which go install reads for
# deprecations.
#   - carbon-clickhouse v0.11.0 predates Go modules: scripts/carbon-clickhouse-build
#     pins its dependencies (go.mod, go.sum) and builds its main package.
#   - graphite-clickhouse v0.12.0 and carbonapi v0.17.0 have their own
#     go.mod: each module is downloaded, copied, and built with that go.mod
#     (carbonapi: 3-5 minutes on 2 cores).
# usage: scripts/install-clickhouse-tools.sh [--carbonapi]
# Idempotent: a binary already built for the same version is kept. A
# graphite-clickhouse build compiles a 2019 Prometheus: 5-15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PLUMBAGO_TOOLS_BIN:-$HOME/.cache/plumbago/bin}
mkdir -p "$bin"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

cc=v0.11.0
if [ "$(cat "$bin/carbon-clickhouse.version" 2>/dev/null)" != "$cc" ]; then
  echo "building carbon-clickhouse $cc into $bin"
  (cd scripts/carbon-clickhouse-build && go build -o "$bin/carbon-clickhouse" github.com/lomik/carbon-clickhouse)
  echo "$cc" > "$bin/carbon-clickhouse.version"
fi

# build_module NAME MODULE VERSION PACKAGE: downloads MODULE@VERSION, and
# builds PACKAGE (relative to the module's root) with the module's own
# go.mod into $bin/NAME.
build_module() {
  local name=$1 module=$2 version=$3 pkg=$4
  if [ "$(cat "$bin/$name.version" 2>/dev/null)" = "$version" ]; then
    return
  fi
  echo "building $name $version into $bin"
  local src work
  src=$(cd /tmp && GOFLAGS= go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  work=$(mktemp -d)
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  rm -rf "$work/vendor" # only a modules.txt: build from the module cache
  (cd "$work" && go build -o "$bin/$name" "$pkg") || { rm -rf "$work"; return 1; }
  rm -rf "$work"
  echo "$version" > "$bin/$name.version"
}

build_module graphite-clickhouse github.com/lomik/graphite-clickhouse v0.12.0 .
# carbonapi only with --carbonapi: only the opt-in render figures
# (TestClickHouseQueryFigures) use it, and scripts/test-deps.sh (CI) need
# not spend its build.
if [ "${1:-}" = --carbonapi ]; then
  build_module carbonapi github.com/go-graphite/carbonapi v0.17.0 ./cmd/carbonapi
fi
