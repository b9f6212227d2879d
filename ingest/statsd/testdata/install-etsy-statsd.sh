#!/bin/sh
# Installs etsy statsd (npm package "statsd") for TestDifferentialEtsy.
# Usage: install-etsy-statsd.sh [dir]   (default: $ETSY_STATSD_DIR or
# ${XDG_CACHE_HOME:-$HOME/.cache}/plumbago/etsy-statsd)
set -eu
dir="${1:-${ETSY_STATSD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plumbago/etsy-statsd}}"
if [ -f "$dir/node_modules/statsd/stats.js" ]; then
	exit 0
fi
mkdir -p "$dir"
# 0.9.0 is the newest statsd on npm (0.10.x is only tagged on GitHub); the
# parsing, processing and graphite backend code compared here is the same.
npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --loglevel=error statsd@0.9.0
