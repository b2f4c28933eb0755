# Shared by the whole-program benchmark scripts (tools/bench.sh,
# tools/bench-rbac.sh), sourced after they set $work, their scratch
# directory.

# machine prints what the figures were taken on.
machine() {
	echo "== machine"
	echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
	echo "$(go version)"
	echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}

rss() { # command... -> peak RSS in MiB
	/usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1 || true
	# GNU time writes "Command exited with non-zero status" first when the
	# command fails, as scanners do when they find problems.
	echo "$(($(tail -n1 "$work/rss") / 1024)) MiB"
}
