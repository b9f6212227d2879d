#!/usr/bin/env bash
# Installs what the test suite's oracle and differential tests need on a fresh
# Debian machine: Python whisper, graphite-web and carbon (the real Graphite
# stack), carbon-c-relay, and etsy statsd (npm package statsd). Idempotent and quiet when
# everything is present.
set -euo pipefail
need=()
/usr/bin/python3 -c 'import whisper' 2>/dev/null || need+=(python3-whisper)
[ -d /usr/lib/python3/dist-packages/graphite ] || need+=(graphite-web)
command -v carbon-cache >/dev/null 2>&1 || need+=(graphite-carbon)
command -v carbon-c-relay >/dev/null 2>&1 || need+=(carbon-c-relay)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian's python3-whisper is for /usr/bin/python3; make sure tests use it.
/usr/bin/python3 -c 'import whisper' 
# etsy statsd for the differential test (npm; cached outside the tree).
if command -v npm >/dev/null 2>&1; then
  sh ingest/statsd/testdata/install-etsy-statsd.sh || echo "warning: installing etsy statsd from npm failed"
fi
