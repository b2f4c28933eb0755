#!/usr/bin/env bash
# Whole-program runs of the rbac commands on the generated cluster
# (tools/rbacgen: 10,000 Roles and ClusterRoles, 10,000 bindings, 2,000
# ServiceAccounts and 2,000 Deployments, 24,000 objects in one 10 MB file),
# side by side with Trivy's misconfiguration scan of the same file, the
# tool a CI pipeline would otherwise run over RBAC manifests:
#   risks    kubeguard rbac risks -o json
#   who-can  kubeguard rbac who-can get secrets -A
#   paths    kubeguard rbac paths -o json
#   trivy    trivy config -f json, its embedded checks, no download
# then peak RSS of each, and the number of findings each reports.
#
# Usage: tools/bench-rbac.sh       (from the repository root)
# Environment: RUNS (timed runs of each kubeguard command, default 10),
# PEER_RUNS (timed runs of Trivy, default 1: it takes minutes), TRIVY (path
# to a trivy binary; built with go install when unset and absent, which
# needs GOEXPERIMENT=jsonv2 and takes minutes), TRIVY_VERSION (default
# v0.74.0), SKIP_PEER=1 to time kubeguard alone, BEFORE (path to another
# kubeguard binary, timed beside the others as "before-risks").
#
# Needs hyperfine (apt-get install -y hyperfine) and GNU time (apt-get
# install -y time); python3 counts Trivy's findings when present.
set -euo pipefail

RUNS=${RUNS:-10}
PEER_RUNS=${PEER_RUNS:-1}
TRIVY_VERSION=${TRIVY_VERSION:-v0.74.0}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tools/benchlib.sh

machine

echo "== build"
kg="$work/kubeguard"
go build -o "$kg" ./cmd/kubeguard
in="$work/cluster.yaml"
go run ./tools/rbacgen -out "$in"
if [ -z "${SKIP_PEER:-}" ]; then
	trivy=${TRIVY:-$(command -v trivy || true)}
	if [ -z "$trivy" ]; then
		GOEXPERIMENT=jsonv2 GOBIN="$work/bin" go install "github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION"
		trivy="$work/bin/trivy"
	fi
	echo "trivy: $trivy"
	# Trivy's default --timeout of 5 minutes is shorter than its scan of
	# this file; --skip-check-update keeps it to the checks it embeds.
	trivy_cmd="$trivy config --quiet --skip-check-update --timeout 60m -f json -o $work/trivy.json $in"
fi

risks="$kg rbac risks -o json --output-file $work/risks.json -f $in"
whocan="$kg rbac who-can get secrets -A -f $in"
paths="$kg rbac paths -o json -f $in"

echo "== time"
before=()
if [ -n "${BEFORE:-}" ]; then
	before=(-n before-risks "$BEFORE rbac risks -o json -f $in")
fi
# risks exits 1 when it finds high risks, as does Trivy: -i.
hyperfine -N -i --warmup 1 --runs "$RUNS" --export-markdown "$work/kg.md" \
	-n risks "$risks" -n who-can "$whocan" -n paths "$paths" "${before[@]}" >/dev/null
cat "$work/kg.md"
if [ -n "${SKIP_PEER:-}" ]; then
	exit 0
fi
hyperfine -N -i --runs "$PEER_RUNS" --export-markdown "$work/peer.md" -n trivy "$trivy_cmd" >/dev/null
tail -n1 "$work/peer.md"

echo "== peak RSS"
echo "risks    $(rss $risks)"
echo "who-can  $(rss $whocan)"
echo "paths    $(rss $paths)"

echo "== findings"
count='import json, sys
d = json.load(open(sys.argv[1]))
if "Results" in d:
    print(sum(len(r.get("Misconfigurations") or []) for r in d["Results"]))
else:
    print(len(d["findings"]))'
if command -v python3 >/dev/null; then
	echo "risks    $(python3 -c "$count" "$work/risks.json")"
	echo "trivy    $(python3 -c "$count" "$work/trivy.json")"
fi
