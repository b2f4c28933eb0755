#!/usr/bin/env bash
# Runs the end-to-end suite: builds (or reuses from .cache/bin/) the
# kube-apiserver and etcd it needs, then tests every package against them.
# Extra arguments go to go test (-run, -v, -count=1, ...).
set -euo pipefail
cd "$(dirname "$0")"
# A cold build takes minutes; doing it here keeps it out of the test
# binaries' timeout.
go run ./cmd/binaries >/dev/null
exec go test -timeout 20m "$@" ./...
