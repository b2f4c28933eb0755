#!/usr/bin/env bash
# kubeguard netpol matrix side by side with np-guard/netpol-analyzer's
# list, with hyperfine, on the generated cluster of tools/netpolgen
# (1,000 Deployments and 500 NetworkPolicies in 20 namespaces).
#
# netpol-analyzer is built from its source for the benchmark only, outside
# this repository (its module is not served by the module proxy; its
# dependencies are): give NPGUARD_SRC, a checkout of
# github.com/np-guard/netpol-analyzer, or NPGUARD, a binary built from one.
#
# netpol-analyzer refuses the whole input ("named port error: cannot
# convert named port for an IP destination") where an egress rule has an
# ipBlock peer and named ports, which the API accepts (the named port
# matches nothing outside the cluster). The 7 such rules of the generated
# cluster get their ports as numbers (8080, 9090) in the input both tools
# read.
#
# Usage: NPGUARD_SRC=/path/to/netpol-analyzer tools/bench-netpol-npguard.sh
# Environment: RUNS (kubeguard runs, default 10), PEER_RUNS (netpol-analyzer
# runs, default 1: one takes minutes), NETPOLGEN_ARGS (flags of
# tools/netpolgen, for a smaller cluster: "-workloads 100 -policies 50").
set -euo pipefail

RUNS=${RUNS:-10}
PEER_RUNS=${PEER_RUNS:-1}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tools/benchlib.sh

machine

echo "== build"
kg="$work/kubeguard"
go build -o "$kg" ./cmd/kubeguard
if [ -z "${NPGUARD:-}" ]; then
	: "${NPGUARD_SRC:?set NPGUARD_SRC to a checkout of np-guard/netpol-analyzer, or NPGUARD to its binary}"
	(cd "$NPGUARD_SRC" && git log -1 --format='netpol-analyzer %H %cd' && GOFLAGS=-mod=mod go build -o "$work/netpol-analyzer" ./cmd/netpolicy)
	NPGUARD="$work/netpol-analyzer"
fi
# shellcheck disable=SC2086 # NETPOLGEN_ARGS is words
go run ./tools/netpolgen -dir "$work/gen" ${NETPOLGEN_ARGS:-}
mkdir "$work/in"
awk '{
	if (to && prev ~ /^    - ipBlock:/ && $0 == "    ports: [{port: http}, {port: metrics}]") { print "    ports: [{port: 8080}, {port: 9090}]"; n++ } else print
	if ($0 ~ /^  - to:/) to = 1; else if ($0 ~ /^  - from:/ || $0 == "---") to = 0
	prev = $0
} END { print "egress rules to an ipBlock with named ports rewritten: " n + 0 > "/dev/stderr" }' "$work/gen/cluster.yaml" >"$work/in/cluster.yaml"

echo "== outputs, under GNU time"
/usr/bin/time -f "kubeguard %e s wall, %U s user, %S s sys, %M KB peak RSS" "$kg" netpol matrix -o json -f "$work/in/cluster.yaml" >"$work/kg.json"
/usr/bin/time -f "netpol-analyzer %e s wall, %U s user, %S s sys, %M KB peak RSS" "$NPGUARD" list --dirpath "$work/in" -o json >"$work/np.json"
python3 tools/netpol-compare.py "$work/kg.json" "$work/np.json"

echo "== hyperfine"
hyperfine --runs "$RUNS" "$kg netpol matrix -o json -f $work/in/cluster.yaml"
hyperfine --runs "$PEER_RUNS" "$NPGUARD list --dirpath $work/in -o json"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
