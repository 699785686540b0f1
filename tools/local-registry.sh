#!/usr/bin/env bash
# Starts or stops a local OCI registry for the docs' examples: Debian's
# docker-registry (make registry installs it), in the background, on ADDR,
# its storage, configuration, log and process id in DIR.
#
#   tools/local-registry.sh start ADDR DIR   (make local-registry)
#   tools/local-registry.sh stop DIR         (make local-registry-stop)
#
# start does nothing if a registry already answers on ADDR, and fails with
# the reason if ADDR is taken by something else or the registry does not
# come up.
set -euo pipefail

# answers ADDR: whether an OCI registry answers GET /v2/ on ADDR (bash's
# /dev/tcp: a fresh machine may have no curl).
answers() {
	local out
	# In a subshell: a refused connection fails the redirection, which
	# ends the shell it runs in; "connected" says the port is taken, then
	# comes the status line of the answer to GET /v2/, if any (a peer
	# that closes first must not kill the probe with SIGPIPE).
	out=$(
		trap '' PIPE
		exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 2
		echo connected
		printf 'GET /v2/ HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&3 2>/dev/null
		IFS= read -r -t 5 line <&3 || line=
		printf '%s\n' "$line"
	) 2>/dev/null
	case $out in
	connected$'\n'"HTTP/1."?" 200 "*) return 0 ;;
	connected*) return 1 ;;
	*) return 2 ;;
	esac
}

start() {
	local addr=$1 dir=$2
	case $addr in
	*:*) ;;
	*) echo "local-registry: ADDR must be HOST:PORT, not \"$addr\"" >&2; exit 2 ;;
	esac
	local rc=0
	answers "$addr" 2>/dev/null || rc=$?
	case $rc in
	0) echo "local-registry: a registry already answers on http://$addr"; return 0 ;;
	1) echo "local-registry: $addr is taken by something that is not an OCI registry" >&2; exit 1 ;;
	esac
	mkdir -p "$dir/storage"
	dir=$(cd "$dir" && pwd)
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $addr
EOF
	: >"$dir/log"
	setsid docker-registry serve "$dir/config.yml" >>"$dir/log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$dir/pid"
	# Ready when it logs that it listens (it binds first): at most 15s.
	local i
	for ((i = 0; i < 150; i++)); do
		if grep -q 'listening on ' "$dir/log"; then
			echo "local-registry: docker-registry answers on http://$addr (process $pid; storage, log: $dir); make local-registry-stop stops it"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/pid"
			# Another one may have taken the port meanwhile (two starts at once).
			if answers "$addr" 2>/dev/null; then
				echo "local-registry: a registry already answers on http://$addr"
				return 0
			fi
			echo "local-registry: docker-registry exited:" >&2
			cat "$dir/log" >&2
			exit 1
		fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
	echo "local-registry: docker-registry did not listen on $addr within 15s:" >&2
	cat "$dir/log" >&2
	exit 1
}

stop() {
	local dir=$1 pid
	if [ ! -f "$dir/pid" ]; then
		echo "local-registry: none started from $dir"
		return 0
	fi
	pid=$(cat "$dir/pid")
	rm -f "$dir/pid"
	# Only the registry started from here: after a crash or a reboot the
	# pid may be another process's.
	if ! ours "$pid" "$(cd "$dir" && pwd)/config.yml"; then
		echo "local-registry: process $pid is no longer the registry started from $dir (it ended); nothing stopped"
		return 0
	fi
	if ! kill "$pid" 2>/dev/null; then
		echo "local-registry: process $pid had already ended"
		return 0
	fi
	# Gone when it no longer runs (a zombie holds no port): at most 5s,
	# then SIGKILL.
	local i
	for ((i = 0; i < 50; i++)); do
		running "$pid" || break
		sleep 0.1
	done
	if running "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	echo "local-registry: stopped process $pid"
}

# ours PID CONFIG: whether process PID is docker-registry serving CONFIG.
ours() {
	local cmdline
	cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	case $cmdline in
	*docker-registry\ serve\ "$2"\ ) return 0 ;;
	*) return 1 ;;
	esac
}

# running PID: whether the process runs (exists and is not a zombie).
running() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

case ${1-} in
start) [ $# -eq 3 ] || { echo "usage: $0 start HOST:PORT DIR" >&2; exit 2; }; start "$2" "$3" ;;
stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
*) echo "usage: $0 start HOST:PORT DIR | stop DIR" >&2; exit 2 ;;
esac
