#!/usr/bin/env bash
# Runs a rotating subset of the repository's fuzz targets for a short time each.
#
# Every `func FuzzX` in a _test.go file is a target. The targets are sorted
# (package directory, then name) and a window of FUZZ_COUNT of them is fuzzed,
# each with: go test -run '^$' -fuzz '^FuzzX$' -fuzztime FUZZ_TIME ./pkg
# The window moves by FUZZ_COUNT at each commit (the rotation index is the
# number of commits on HEAD; outside git, the number of days since 1970), so
# every target comes up once every ceil(targets/FUZZ_COUNT) commits; the
# windows shift by one more target at each full cycle.
#
# A target that fails leaves its crashing input in the package's
# testdata/fuzz/FuzzX/ (go test writes it there), where plain `go test` replays
# it from then on; the script lists the new files and exits 1. The seed corpus
# is kept in the repository the same way (testdata/fuzz and f.Add seeds).
#
# Environment:
#   FUZZ_COUNT   targets per run (default 5; "all" runs every target)
#   FUZZ_TIME    -fuzztime per target (default 20s)
#   FUZZ_ROTATE  rotation index (default: see above)
#   FUZZ_ONLY    run only the targets whose "dir FuzzX" matches this regex
#   FUZZ_BUDGET  seconds after which no further target is started (default 360;
#                0 = none): building a package for fuzzing is slow on a loaded
#                machine, and the targets skipped run at a later rotation
# Flags:
#   --list       print every target and the ones this run would pick, then exit
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

count=${FUZZ_COUNT:-5}
fuzztime=${FUZZ_TIME:-20s}
budget=${FUZZ_BUDGET:-360}

# modroot prints the directory of the go.mod that owns directory $1.
modroot() {
	local d=$1
	while [ "$d" != "." ] && [ ! -f "$d/go.mod" ]; do
		d=$(dirname "$d")
	done
	echo "$d"
}

mapfile -t targets < <(
	grep -rl --include='*_test.go' --exclude-dir=.git --exclude-dir=node_modules '^func Fuzz' . |
		while read -r f; do
			d=$(dirname "$f")
			grep -o '^func Fuzz[A-Za-z0-9_]*(' "$f" | sed -e 's/^func //' -e 's/($//' -e "s|^|${d#./} |"
		done | LC_ALL=C sort -u
)
if [ -n "${FUZZ_ONLY:-}" ]; then
	mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -E -- "$FUZZ_ONLY" || true)
fi
n=${#targets[@]}
if [ "$n" -eq 0 ]; then
	echo "fuzz-ci: no fuzz targets found" >&2
	exit 1
fi

if [ "$count" = all ] || [ "$count" -ge "$n" ]; then
	count=$n
fi
if [ -n "${FUZZ_ROTATE:-}" ]; then
	rot=$FUZZ_ROTATE
elif rot=$(git rev-list --count HEAD 2>/dev/null); then
	:
else
	rot=$(($(date +%s) / 86400))
fi
# Consecutive windows of count targets; each full cycle of windows shifts by
# one, so a target is not always last in its window (where FUZZ_BUDGET may
# skip it).
cycle=$(((n + count - 1) / count))
start=$(((rot * count + rot / cycle) % n))
picked=()
for ((i = 0; i < count; i++)); do
	picked+=("${targets[$(((start + i) % n))]}")
done

if [ "${1:-}" = --list ]; then
	echo "# $n fuzz targets; rotation $rot picks $count from index $start:"
	printf '%s\n' "${targets[@]}"
	echo "# picked:"
	printf '%s\n' "${picked[@]}"
	exit 0
fi

echo "fuzz-ci: $n targets; rotation $rot: fuzzing $count for $fuzztime each"
failed=()
flaked=()
retried=()
skipped=0
# corpus lists the files of a fuzz target's corpus directory (empty when none).
corpus() {
	if [ -d "$1" ]; then
		find "$1" -type f | LC_ALL=C sort
	fi
}
for t in "${picked[@]}"; do
	if [ "$budget" -gt 0 ] && [ "$SECONDS" -ge "$budget" ]; then
		echo "fuzz-ci: ${SECONDS}s spent (FUZZ_BUDGET=$budget): not starting $t"
		skipped=$((skipped + 1))
		continue
	fi
	dir=${t% *}
	name=${t#* }
	mod=$(modroot "$dir")
	rel=${dir#"$mod"}
	rel=${rel#/}
	echo "== $dir $name"
	tries=0
	while :; do
		tries=$((tries + 1))
		before=$(corpus "$dir/testdata/fuzz/$name")
		log=$(mktemp)
		if (cd "$root/$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./${rel:-.}") 2>&1 | tee "$log"; then
			rm -f "$log"
			if [ "$tries" -gt 1 ]; then
				retried+=("$t")
			fi
			break
		fi
		after=$(corpus "$dir/testdata/fuzz/$name")
		# Go 1.26's fuzz coordinator can fail a target at the -fuzztime
		# boundary with a bare "context deadline exceeded" and no input
		# written (go.dev/issue/75804, fixed in Go 1.27): a race between
		# the deadline and its workers, most likely on a loaded machine.
		# Such a run found nothing; it is run once more, and a second such
		# run is reported as a toolchain flake, not a failure. Any run that
		# writes a failing input, or fails any other way, fails.
		if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' "$log" &&
			! grep -q -e '^panic:' -e 'Failing input written' "$log"; then
			rm -f "$log"
			if [ "$tries" -lt 2 ]; then
				echo "fuzz-ci: $t: 'context deadline exceeded' with no failing input (go.dev/issue/75804); running it again"
				continue
			fi
			echo "fuzz-ci: $t: toolchain deadline race twice, no failing input: counted as a flake"
			flaked+=("$t")
			break
		fi
		rm -f "$log"
		failed+=("$t")
		break
	done
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz-ci: FAILED: ${failed[*]}" >&2
	echo "fuzz-ci: new crashing inputs (commit them with the fix; go test replays them):" >&2
	git status --porcelain --untracked-files=all -- '*testdata/fuzz/*' >&2 || true
	exit 1
fi
echo "fuzz-ci: ok ($((count - skipped)) of $count targets fuzzed in ${SECONDS}s; ${#flaked[@]} toolchain flakes${flaked:+: ${flaked[*]}}; ${#retried[@]} passed on a rerun after the toolchain's deadline race${retried:+: ${retried[*]}})"
