#!/usr/bin/env bash
# Builds carbon-clickhouse v0.11.0 and graphite-clickhouse v0.12.0 (both Go,
# from the Go module proxy) into $PLUMBAGO_TOOLS_BIN (default
# ~/.cache/plumbago/bin), where cmd/plumbago's TestCarbonClickHouseInterop
# and the loadtest comparison in docs/clickhouse.md find them. They are the
# last releases that work with Debian's ClickHouse 18.16 and that the proxy
# serves. `go install module@version` cannot be used: the proxy refuses
# these modules' version lists, which go install reads for deprecations.
#   - carbon-clickhouse v0.11.0 predates Go modules: scripts/carbon-clickhouse-build
#     pins its dependencies (go.mod, go.sum) and builds its main package.
#   - graphite-clickhouse v0.12.0 has its own go.mod: its module is
#     downloaded, copied, and built with that go.mod.
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

gc=v0.12.0
if [ "$(cat "$bin/graphite-clickhouse.version" 2>/dev/null)" != "$gc" ]; then
  echo "building graphite-clickhouse $gc into $bin"
  src=$(cd /tmp && GOFLAGS= go mod download -json "github.com/lomik/graphite-clickhouse@$gc" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  rm -rf "$work/vendor" # only a modules.txt: build from the module cache
  (cd "$work" && go build -o "$bin/graphite-clickhouse" .)
  echo "$gc" > "$bin/graphite-clickhouse.version"
fi
