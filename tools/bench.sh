#!/usr/bin/env bash
# Whole-program comparison on a generated corpus, in one run and side by
# side:
#   kubeguard   kubeguard scan (all cores), JSON report to /dev/null
#   kube-score  kube-score score over the same files (its default output)
#   bare-parse  tools/bareparse: read, split and parse every document with
#               the YAML parser kubeguard uses, on all cores, nothing else
# then peak RSS of each, and kubeguard's peak RSS at two corpus sizes and
# with the corpus as one file, to show memory does not follow the input.
#
# Usage: tools/bench.sh            (from the repository root)
# Environment: N (objects, default 20000), SMALL_N (default 5000), SEED
# (default 1), RUNS (timed runs per command, default 5), KUBE_SCORE (path
# to a kube-score binary; installed with go install when unset and absent),
# KUBE_SCORE_VERSION (default v1.20.0, @latest on the module proxy when
# this was written), BEFORE (path to another kubeguard binary, such as one
# built from an earlier commit, timed beside the others as "before").
#
# Uses hyperfine when installed (apt-get install -y hyperfine), otherwise
# repeated runs with min and median; GNU time (apt-get install -y time) for
# peak RSS.
set -euo pipefail

N=${N:-20000}
SMALL_N=${SMALL_N:-5000}
SEED=${SEED:-1}
RUNS=${RUNS:-5}
KUBE_SCORE_VERSION=${KUBE_SCORE_VERSION:-v1.20.0}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tools/benchlib.sh

machine

echo "== build"
go build -o "$work/kubeguard" ./cmd/kubeguard
go build -o "$work/bareparse" ./tools/bareparse
ks=${KUBE_SCORE:-$(command -v kube-score || true)}
if [ -z "$ks" ]; then
	GOBIN="$work/bin" go install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
	ks="$work/bin/kube-score"
fi
echo "kube-score: $ks"

echo "== corpus"
go run ./tools/corpusgen -n "$N" -seed "$SEED" -out "$work/corpus"
go run ./tools/corpusgen -n "$SMALL_N" -seed "$SEED" -out "$work/small"
go run ./tools/corpusgen -n "$N" -seed "$SEED" -single -out "$work/single"
find "$work/corpus" -name '*.yaml' | sort >"$work/files.txt"
echo "$(wc -l <"$work/files.txt") files, $(du -sb "$work/corpus" | cut -f1) bytes"

# Each command as hyperfine and the fallback run it. kube-score gets every
# file on one command line (it has no directory mode); kubeguard and the
# bare parse walk the directory.
cat >"$work/kube-score.sh" <<EOF
#!/usr/bin/env bash
mapfile -t files <"$work/files.txt"
exec "$ks" score "\${files[@]}" >/dev/null
EOF
chmod +x "$work/kube-score.sh"
kg_cmd="$work/kubeguard scan $work/corpus -o json --output-file /dev/null"
ks_cmd="$work/kube-score.sh"
bp_cmd="$work/bareparse $work/corpus"

echo "== time ($RUNS runs each)"
if command -v hyperfine >/dev/null; then
	# kubeguard and kube-score exit 1 when they find problems: -i.
	before=()
	if [ -n "${BEFORE:-}" ]; then
		before=(-n before "$BEFORE scan $work/corpus -o json")
	fi
	hyperfine -i --warmup 1 --runs "$RUNS" --export-markdown "$work/times.md" \
		-n kubeguard "$kg_cmd" -n kube-score "$ks_cmd" -n bare-parse "$bp_cmd" \
		-n bare-parse-yaml.v3 "$work/bareparse -yaml.v3 $work/corpus" "${before[@]}" >/dev/null
	cat "$work/times.md"
else
	for name in kubeguard kube-score bare-parse; do
		case $name in
		kubeguard) cmd=$kg_cmd ;;
		kube-score) cmd=$ks_cmd ;;
		bare-parse) cmd=$bp_cmd ;;
		esac
		$cmd >/dev/null 2>&1 || true # warm-up
		for _ in $(seq "$RUNS"); do
			s=$(date +%s.%N)
			$cmd >/dev/null 2>&1 || true
			e=$(date +%s.%N)
			echo "$e - $s" | bc
		done | sort -n | awk -v n="$name" '{t[NR]=$1} END {printf "%-10s min %.3f s  median %.3f s\n", n, t[1], t[int((NR+1)/2)]}'
	done
fi

echo "== peak RSS"
echo "kubeguard   $(rss $kg_cmd)"
echo "kube-score  $(rss "$ks_cmd")"
echo "bare-parse  $(rss $bp_cmd)"
echo "bare-parse -yaml.v3  $(rss "$work/bareparse" -yaml.v3 "$work/corpus")"
if [ -n "${BEFORE:-}" ]; then
	echo "before      $(rss "$BEFORE" scan "$work/corpus" -o json)"
fi
echo "== kubeguard peak RSS against input size"
echo "$SMALL_N objects, files:      $(rss "$work/kubeguard" scan "$work/small" -o json --output-file /dev/null)"
echo "$N objects, files:     $(rss $kg_cmd)"
echo "$N objects, one file:  $(rss "$work/kubeguard" scan "$work/single" -o json --output-file /dev/null)"
echo "$N objects, text report: $(rss "$work/kubeguard" scan "$work/corpus" --output-file /dev/null)"
