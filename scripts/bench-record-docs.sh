#!/usr/bin/env bash
# Writes a finished run of scripts/bench-record.sh into the docs (called as
# `scripts/bench-record-report.sh --docs`): RESULTS_DIR/record.md goes between
# the bench-record markers of docs/benchmarks.md (all of it, headings moved
# under "## The record") and docs/bench-statsd.md (the summary's statsd rows
# and the per-run statsd table); the plots go to docs/plots/record-*.png (the
# record's earlier plots there are removed). Nothing outside the markers
# changes. A --quick run is refused unless --allow-quick (its sizes are too
# small to be the record).
# usage: scripts/bench-record-docs.sh [--allow-quick] RESULTS_DIR [REPO]
set -euo pipefail
ALLOW_QUICK=0
[ "${1:-}" = --allow-quick ] && { ALLOW_QUICK=1; shift; }
D=${1:?usage: bench-record-report.sh --docs [--allow-quick] RESULTS_DIR [REPO]}
REPO=${2:-$(cd "$(dirname "$0")/.." && pwd)}
REC=$D/record.md
BENCH=$REPO/docs/benchmarks.md STATSD=$REPO/docs/bench-statsd.md PLOTS=$REPO/docs/plots
BEGIN_RE='^<!-- bench-record:begin'
END_RE='^<!-- bench-record:end'

die() { echo "bench-record docs: $*" >&2; exit 1; }
[ -s "$REC" ] || die "no record.md in $D (did the run reach its report step?)"
for f in "$BENCH" "$STATSD"; do
	[ "$(grep -c "$BEGIN_RE" "$f")" = 1 ] && [ "$(grep -c "$END_RE" "$f")" = 1 ] ||
		die "$f needs exactly one <!-- bench-record:begin ... --> and one <!-- bench-record:end --> line"
	awk -v b="$BEGIN_RE" -v e="$END_RE" '$0 ~ b { s = NR } $0 ~ e { t = NR } END { exit !(s < t) }' "$f" ||
		die "$f: the end marker comes before the begin marker"
done
mode=$(sed -n 's/^- mode: //p;T;q' "$REC")
[ "$mode" = quick ] && [ "$ALLOW_QUICK" = 0 ] && die "$D is a --quick run: its sizes are not the record (--allow-quick to write it anyway)"
date=$(sed -n 's/^- date: //p;T;q' "$REC")
commit=$(sed -n 's/^- plumbago: //p;T;q' "$REC")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# demote: headings down two levels outside code fences, the title replaced,
# plots renamed to docs/plots/record-NAME.png.
awk -v title="### The record of ${date:-an unknown date} (${mode:-full} run, Plumbago at ${commit:-unknown})" '
	NR == 1 && /^# / { print title; next }
	/^```/ { fence = !fence }
	!fence && /^#+ / { print "##" $0; next }
	{ print }' "$REC" | sed -E 's/\]\(([A-Za-z0-9._-]+)\.png\)/](plots\/record-\1.png)/g' >"$tmp/bench.md"

# bench-statsd.md: the statsd rows of the summary and the "## statsd" section.
{
	echo "## Against etsy statsd and collectd"
	echo
	echo "From the record of ${date:-an unknown date} (Plumbago at ${commit:-unknown}; docs/benchmarks.md, \"The record\", has the machine,"
	echo "the versions, the settings held equal on every side and the commands)."
	echo
	echo "| comparison | Plumbago | peer | Plumbago ÷ peer | load average |"
	echo "|---|---|---|---|---|"
	grep '^| statsd' "$REC" | grep -v '^| statsd server CPU per metric ≤\|^| statsd memory flat\|^| statsd at [0-9]* per datagram: the kernel' || true
	awk '/^## / { s = ($0 == "## statsd") ; if (s) { print ""; print "### Every run"; next } } s' "$REC"
} >"$tmp/statsd.md"

# replace FILE PART: the lines between the markers become PART.
replace() {
	awk -v b="$BEGIN_RE" -v e="$END_RE" -v part="$2" '
		$0 ~ b { print; while ((getline l < part) > 0) print l; skip = 1; next }
		$0 ~ e { skip = 0 }
		!skip { print }' "$1" >"$1.new"
	mv "$1.new" "$1"
}
replace "$BENCH" "$tmp/bench.md"
replace "$STATSD" "$tmp/statsd.md"

mkdir -p "$PLOTS"
rm -f "$PLOTS"/record-*.png
for p in "$D"/*.png; do
	[ -f "$p" ] || continue
	cp "$p" "$PLOTS/record-$(basename "$p")"
done
echo "bench-record docs: wrote the record of ${date:-?} into $BENCH and $STATSD, plots into $PLOTS" >&2
