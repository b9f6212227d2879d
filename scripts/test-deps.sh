#!/usr/bin/env bash
# Installs every tool outside Go that a test uses, on a fresh Debian machine:
# Python whisper, graphite-web and carbon (the real Graphite stack),
# carbon-c-relay, htpasswd (apache2-utils), openssl, e2fsprogs and mount (the ext4 read-only volume test), systemd-analyze (systemd), poppler's
# pdftoppm and pdfinfo (poppler-utils: the graph PDF oracle), the DejaVu italic and
# oblique faces graphite-web draws the graph oracle's text with (fonts-dejavu-extra), Node.js
# and etsy statsd (npm package statsd), Debian's ClickHouse server (the clickhouse backend's
# tests start their own on loopback), ZooKeeper (zookeeperd, for replicated tables), and carbon-clickhouse and
# graphite-clickhouse (scripts/install-clickhouse-tools.sh builds them with Go). Tests find them through
# internal/testenv, which fails a test under CI=true when its tool is missing.
# (terraform, used by deploy/check's TestTerraformWithTerraform, is in neither
# Debian nor npm; the machine image provides it.) Idempotent and quiet when
# everything is present.
#
# The Go work (the module downloads of the tree and of deploy/check, then the
# carbon-clickhouse and graphite-clickhouse builds: 5-15 minutes on 2 cores
# when the caches are cold) runs in the background while apt and npm install,
# so that on a fresh machine the downloads and the builds overlap; the script
# waits for it before it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
gowork=""
if command -v go >/dev/null 2>&1; then
  {
    go mod download && (cd deploy/check && go mod download) || echo "warning: go mod download failed"
    # carbon-clickhouse and graphite-clickhouse for the interoperability tests
    # (Go, built from the Go module proxy into ~/.cache/plumbago/bin; kept
    # there, so only a fresh machine builds them).
    bash scripts/install-clickhouse-tools.sh || echo "warning: building carbon-clickhouse and graphite-clickhouse failed (their tests fail under CI=true)"
  } &
  gowork=$!
fi
need=()
[ -x /usr/bin/python3 ] || need+=(python3)
/usr/bin/python3 -c 'import whisper' 2>/dev/null || need+=(python3-whisper)
[ -d /usr/lib/python3/dist-packages/graphite ] || need+=(graphite-web)
command -v carbon-cache >/dev/null 2>&1 || need+=(graphite-carbon)
command -v carbon-c-relay >/dev/null 2>&1 || need+=(carbon-c-relay)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# mkfs.ext4 and e2fsck: the read-only volume test's ext4 loop volume.
{ command -v mkfs.ext4 && command -v e2fsck; } >/dev/null 2>&1 || need+=(e2fsprogs)
command -v mount >/dev/null 2>&1 || need+=(mount)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf ] || need+=(fonts-dejavu-extra)
{ command -v clickhouse-server || [ -x /usr/sbin/clickhouse-server ]; } >/dev/null 2>&1 || need+=(clickhouse-server)
[ -d /usr/share/doc/zookeeperd ] || need+=(zookeeperd)
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
if [ -n "$gowork" ]; then
  wait "$gowork"
fi
