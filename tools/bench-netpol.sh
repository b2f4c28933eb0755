#!/usr/bin/env bash
# Whole-program runs of kubeguard netpol matrix on the generated cluster
# (tools/netpolgen: 1,000 Deployments and 500 NetworkPolicies in 20
# namespaces, one 0.6 MB file), side by side with cyclonus v0.5.6's
# offline analysis of the same cluster (its synthetic probe: the same
# policies, one pod per workload with the same labels and ports), built
# from its source in a scratch module for the benchmark only:
#   matrix   kubeguard netpol matrix -o json   (every pair, every port)
#   cyclonus cyclonus analyze --mode probe     (every pair, 8080/TCP only)
# Each run is timed under GNU time (wall, user, sys, peak RSS).
#
# Usage: tools/bench-netpol.sh       (from the repository root)
# Environment: RUNS (runs of kubeguard, default 5), PEER_RUNS (runs of
# cyclonus, default 1: it takes minutes), CYCLONUS (path to a cyclonus
# binary; built when unset, which takes minutes), SKIP_PEER=1 to time
# kubeguard alone.
set -euo pipefail

RUNS=${RUNS:-5}
PEER_RUNS=${PEER_RUNS:-1}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tools/benchlib.sh

machine

echo "== build"
kg="$work/kubeguard"
go build -o "$kg" ./cmd/kubeguard
go run ./tools/netpolgen -dir "$work/in"
if [ -z "${SKIP_PEER:-}" ] && [ -z "${CYCLONUS:-}" ]; then
	mkdir -p "$work/cyc"
	cat >"$work/cyc/go.mod" <<'MOD'
module cycbench

go 1.26.0

require github.com/mattfenwick/cyclonus v0.5.6
MOD
	printf '//go:build tools\n\npackage cycbench\n\nimport _ "github.com/mattfenwick/cyclonus/cmd/cyclonus"\n' >"$work/cyc/tools.go"
	(cd "$work/cyc" && GOFLAGS=-mod=mod go mod tidy && GOFLAGS=-mod=mod go build -o "$work/cyclonus" github.com/mattfenwick/cyclonus/cmd/cyclonus)
	CYCLONUS="$work/cyclonus"
fi

timed() { # name command... : one line per run
	for _ in $(seq "$1"); do
		/usr/bin/time -f "$2 %e s wall, %U s user, %S s sys, %M KB peak RSS" "${@:3}" >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
		tail -n1 "$work/err"
	done
}

echo "== kubeguard netpol matrix -o json ($RUNS runs)"
timed "$RUNS" matrix "$kg" netpol matrix -o json -f "$work/in/cluster.yaml"
echo "connections: $(grep -c '"from"' "$work/out")"
if [ -z "${SKIP_PEER:-}" ]; then
	echo "== cyclonus analyze --mode probe ($PEER_RUNS runs)"
	timed "$PEER_RUNS" cyclonus "$CYCLONUS" analyze --mode probe --policy-path "$work/in/policies" --probe-path "$work/in/model.json"
fi
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
