#!/usr/bin/env bash
# Runs the end-to-end suite: builds (or reuses from .cache/bin/) the
# kube-apiserver and etcd it needs, then tests every package against them.
# Extra arguments go to go test (-run, -v, -count=1, ...); package
# patterns among them (./rbac/..., relative to test/e2e) replace ./...
set -euo pipefail
cd "$(dirname "$0")"
# A cold build takes minutes; doing it here keeps it out of the test
# binaries' timeout.
go run ./cmd/binaries >/dev/null
pkgs=(./...)
for a in "$@"; do
	case "$a" in ./*) pkgs=() ;; esac
done
exec go test -timeout 20m "$@" "${pkgs[@]}"
