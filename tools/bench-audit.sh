#!/usr/bin/env bash
# Whole-program runs of kubeguard audit log on a generated audit log
# (tools/auditgen: 1,000,000 events, about 1 GB), side by side with jq
# reading the same file for one of the detections (exec into pods), the
# tool an operator would otherwise point at the log; then peak RSS against
# the log's length (100k, 300k and 1M events), which must stay flat.
#
# Usage: tools/bench-audit.sh       (from the repository root)
# Environment: EVENTS (default 1000000), RUNS (timed runs, default 3).
# Needs jq (apt-get install -y jq) and GNU time (apt-get install -y time).
set -euo pipefail

EVENTS=${EVENTS:-1000000}
RUNS=${RUNS:-3}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tools/benchlib.sh

machine
echo "jq: $(jq --version)"

echo "== build"
kg="$work/kubeguard"
go build -o "$kg" ./cmd/kubeguard
log="$work/audit.log"
go run ./tools/auditgen -n "$EVENTS" -out "$log"
echo "log: $EVENTS events, $(stat -c %s "$log") bytes"

timed() { # name command... -> wall, user+sys CPU seconds, peak RSS
	local name=$1
	shift
	for i in $(seq "$RUNS"); do
		/usr/bin/time -f '%e %U %S %M' -o "$work/t" "$@" >"$work/out" 2>/dev/null || true
		read -r wall user sys rss < <(tail -n1 "$work/t")
		printf '%-12s run %d: %6.2f s wall, %6.2f s CPU, %4d MiB peak RSS, load %s\n' \
			"$name" "$i" "$wall" "$(echo "$user + $sys" | bc)" "$((rss / 1024))" "$(cut -d' ' -f1 /proc/loadavg)"
	done
}

echo "== time"
timed kubeguard "$kg" audit log -o json "$log"
echo "kubeguard findings: $(grep -c '"checkID"' "$work/out" || true)"
timed jq-exec jq -c 'select(.objectRef.subresource == "exec") | .auditID' "$log"
echo "jq exec events: $(wc -l <"$work/out")"

echo "== memory against the log's length"
for n in 100000 300000 "$EVENTS"; do
	head -n "$n" "$log" >"$work/part.log"
	echo "$n events ($(stat -c %s "$work/part.log") bytes): $(rss "$kg" audit log -o json "$work/part.log")"
done
