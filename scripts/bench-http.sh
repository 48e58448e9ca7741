#!/usr/bin/env bash
# Runs routebot's local server and the floor (cmd/floor: bare net/http, a
# fixed envelope) one after the other under the same wrk load, and prints
# both and their ratio. Absolute figures move 2x between machines; the ratio
# is the figure to compare. Each server gets core 0, wrk core 1, when there
# are two cores or more (taskset), so the load generator does not steal the
# server's CPU. Besides turns/s and latency it prints the server's CPU time
# per turn (user+system, from /proc): on a machine shared with other work
# that figure moves much less than turns/s, and its ratio is the one to
# trust when the two disagree. With -n > 1 the runs alternate routebot and
# floor, and last lines give the median of each ratio, and the ratios of
# each server's best figures (most turns/s, least CPU a turn, lowest p99,
# each from whichever run gave it): a neighbour only ever slows a run down,
# so a server's best figure is the least disturbed one, and on a shared
# machine the bests are the steadier comparison (Chen & Revels, "Robust benchmarking in noisy environments",
# 2016). With -b REV the
# cmd/local of git revision REV runs too, before each routebot run, and its
# line and ratio to the floor are printed the same way: before and after a
# change, measured side by side. A last line says how much CPU time the
# hypervisor stole from the machine meanwhile (/proc/stat), a measure of
# how far to trust the minute. With -s DUR a floor that burns DUR of CPU per
# request (cmd/floor -spin) runs too, printed like the base: a handler of
# known cost, to read what a handler may cost to reach a given ratio.
#
# wrk's load is a closed loop: each connection sends when answered, so by
# Little's law a server's mean latency is the connections over its
# turns/s: a slower server's latencies are larger by about the inverse of
# the turns/s ratio, its p99 with them unless its tail is thinner. With -r RATE every server is also offered RATE turns/s in an open
# loop (cmd/loadgen -rate, the same calls) after its wrk run, and the
# latencies are printed side by side: what a caller waits at the same
# offered load, which is what a contact center's traffic is.
#
#   scripts/bench-http.sh [-d 10s] [-c 32] [-n 3] [-b REV] [-s 5us] [-r 8000]    (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=10s conns=32 runs=1 base= spin= rate=
while getopts d:c:n:b:s:r: opt; do
	case $opt in
	d) dur=$OPTARG ;; c) conns=$OPTARG ;; n) runs=$OPTARG ;; b) base=$OPTARG ;; s) spin=$OPTARG ;; r) rate=$OPTARG ;;
	*) echo "usage: $0 [-d DURATION] [-c CONNECTIONS] [-n RUNS] [-b REV] [-s SPIN] [-r RATE]" >&2; exit 2 ;;
	esac
done
command -v wrk >/dev/null || { echo "bench-http: wrk not found (apt-get install wrk)" >&2; exit 1; }
bin=$(mktemp -d)
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null
	wait 2>/dev/null
	[[ -d $bin/base-src ]] && git worktree remove --force "$bin/base-src"
	rm -rf "$bin"
}
trap cleanup EXIT
go build -o "$bin/local" ./cmd/local
go build -o "$bin/floor" ./cmd/floor
go build -o "$bin/loadgen" ./cmd/loadgen
if [[ -n $base ]]; then
	git worktree add --detach "$bin/base-src" "$base" >/dev/null 2>&1 ||
		{ echo "bench-http: no git revision $base" >&2; exit 1; }
	(cd "$bin/base-src" && go build -o "$bin/base" ./cmd/local)
fi

server_cpu=() load_cpu=()
if (($(nproc) >= 2)) && command -v taskset >/dev/null; then
	server_cpu=(taskset -c 0) load_cpu=(taskset -c 1)
fi
port=18090

# cpu_ticks PID: user+system clock ticks the process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME CMD...: starts the server, loads it, prints
# "NAME rps p50 p99 cpu_us_per_turn", and with -r "open_p50 open_p99" (ms).
measure() {
	local name=$1
	shift
	PORT=$port ROUTEBOT_LOG_LEVEL=ERROR GOMAXPROCS=1 "${server_cpu[@]}" "$@" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	# Warm up (tenants compile, classifiers train, connections open), then measure.
	"${load_cpu[@]}" wrk -t1 -c"$conns" -d3s -s scripts/turns.lua "http://127.0.0.1:$port" >/dev/null
	local t0 t1
	t0=$(cpu_ticks "$pid")
	"${load_cpu[@]}" wrk -t1 -c"$conns" -d"$dur" --latency -s scripts/turns.lua "http://127.0.0.1:$port" >"$bin/$name.out" 2>"$bin/$name.err"
	t1=$(cpu_ticks "$pid")
	local open=
	if [[ -n $rate ]]; then
		# answered offered p50 p99; loadgen says on stderr if the server fell behind.
		# measure runs in a subshell: cleanup's pid is not this one, so stop
		# the server before giving up.
		open=$("${load_cpu[@]}" "$bin/loadgen" -url "http://127.0.0.1:$port" -c "$conns" -d "$dur" -warmup 1s -rate "$rate" -terse 2>"$bin/$name.open.err") || {
			kill "$pid"
			wait "$pid" 2>/dev/null || true
			echo "bench-http: $name, open loop at $rate turns/s:" >&2
			cat "$bin/$name.open.err" >&2
			exit 1
		}
		[[ -s $bin/$name.open.err ]] && cat "$bin/$name.open.err" >&2
		open=$(awk '{print $3, $4}' <<<"$open")
	fi
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	if [[ -s $bin/$name.err ]]; then
		echo "bench-http: $name answered non-200s:" >&2
		head -3 "$bin/$name.err" >&2
		exit 1
	fi
	awk -v n="$name" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v open="$open" \
		'/requests in/ {reqs=$1} /Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
		END {printf "%s %s %s %s %.1f %s\n", n, rps, p50, p99, 1e6*ticks/hz/reqs, open}' "$bin/$name.out"
}

# to_ms 1.23ms|456.00us|1.2s → milliseconds
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) print v/1000; else if (v ~ /ms$/) print v+0; else print v*1000 }'; }

# row RUN NAME RPS P50 P99 CPU: one server's line.
row() { printf '%-4s %-9s %10s %8s %8s %12s\n' "$1" "$2" "$3" "$(to_ms "$4")" "$(to_ms "$5")" "$6"; }

# ratio RPS P99 CPU: "turns/s% p99x cpu%" of a server against this run's floor.
ratio() {
	awk -v a="$1" -v b="$f_rps" -v c="$(to_ms "$2")" -v d="$(to_ms "$f_p99")" -v e="$3" -v f="$f_cpu" \
		'BEGIN { printf "%.0f %.2f %.0f", 100*a/b, c/d, 100*f/e }'
}

# says LABEL TURNS P99 CPU: the three ratios in words.
says() {
	printf '%s turns/s %s%% of the floor, p99 %sx the floor'"'"'s, turns per CPU-second %s%% of the floor'"'"'s\n' "$@"
}

# stolen: the whole machine's CPU time so far, and how much of it the
# hypervisor gave to other guests ("steal", /proc/stat), in clock ticks.
stolen() { awk '$1 == "cpu" {t=0; for (i=2; i<=9; i++) t+=$i; print t, $9}' /proc/stat; }

# open_ratio P50 P99: "p50x p99x" of a server's open-loop latencies against
# this run's floor's.
open_ratio() { awk -v a="$1" -v b="$2" -v c="$f_op50" -v d="$f_op99" 'BEGIN { printf "%.2f %.2f", c ? a/c : 0, d ? b/d : 0 }'; }

# open_says LABEL P50 P99 [P50X P99X]: a server's open-loop latencies.
open_says() {
	printf '%s open loop at %s turns/s: p50 %s ms, p99 %s ms' "$1" "$rate" "$2" "$3"
	(($# > 3)) && printf ' (%sx and %sx the floor'"'"'s)' "$4" "$5"
	echo
}
read -r total0 steal0 < <(stolen)

printf '%-4s %-9s %10s %8s %8s %12s\n' run server turns/s p50_ms p99_ms cpu_us/turn
ratios=() base_ratios=() spin_ratios=() open_ratios=() base_open_ratios=()
runs_of=() # "name rps p99 cpu" of every server in every run, for the bests
for run in $(seq "$runs"); do
	if [[ -n $base ]]; then
		read -r _ b_rps b_p50 b_p99 b_cpu b_op50 b_op99 < <(measure base "$bin/base")
	fi
	if [[ -n $spin ]]; then
		read -r _ s_rps s_p50 s_p99 s_cpu _ _ < <(measure spin "$bin/floor" -addr "127.0.0.1:$port" -spin "$spin")
	fi
	read -r _ r_rps r_p50 r_p99 r_cpu r_op50 r_op99 < <(measure routebot "$bin/local")
	read -r _ f_rps f_p50 f_p99 f_cpu f_op50 f_op99 < <(measure floor "$bin/floor" -addr "127.0.0.1:$port")
	[[ -n $base ]] && row "$run" base "$b_rps" "$b_p50" "$b_p99" "$b_cpu"
	row "$run" routebot "$r_rps" "$r_p50" "$r_p99" "$r_cpu"
	[[ -n $spin ]] && row "$run" "+$spin" "$s_rps" "$s_p50" "$s_p99" "$s_cpu"
	row "$run" floor "$f_rps" "$f_p50" "$f_p99" "$f_cpu"
	runs_of+=("routebot $r_rps $(to_ms "$r_p99") $r_cpu" "floor $f_rps $(to_ms "$f_p99") $f_cpu")
	[[ -n $base ]] && runs_of+=("base $b_rps $(to_ms "$b_p99") $b_cpu")
	[[ -n $spin ]] && runs_of+=("spin $s_rps $(to_ms "$s_p99") $s_cpu")
	ratios+=("$(ratio "$r_rps" "$r_p99" "$r_cpu")")
	# shellcheck disable=SC2086 # the three ratios, as three words
	says "$(printf '%-4s ratio    ' "$run")" ${ratios[-1]}
	if [[ -n $base ]]; then
		base_ratios+=("$(ratio "$b_rps" "$b_p99" "$b_cpu")")
		# shellcheck disable=SC2086
		says "$(printf '%-4s base     ' "$run")" ${base_ratios[-1]}
	fi
	if [[ -n $spin ]]; then
		spin_ratios+=("$(ratio "$s_rps" "$s_p99" "$s_cpu")")
		# shellcheck disable=SC2086
		says "$(printf '%-4s %-9s' "$run" "+$spin")" ${spin_ratios[-1]}
	fi
	if [[ -n $rate ]]; then
		open_ratios+=("$(open_ratio "$r_op50" "$r_op99")")
		# shellcheck disable=SC2086
		open_says "$(printf '%-4s routebot ' "$run")" "$r_op50" "$r_op99" ${open_ratios[-1]}
		if [[ -n $base ]]; then
			base_open_ratios+=("$(open_ratio "$b_op50" "$b_op99")")
			# shellcheck disable=SC2086
			open_says "$(printf '%-4s base     ' "$run")" "$b_op50" "$b_op99" ${base_open_ratios[-1]}
		fi
		open_says "$(printf '%-4s floor    ' "$run")" "$f_op50" "$f_op99"
	fi
done
if ((runs > 1)); then
	median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
	# summary NAME RATIO...: the median of each of the runs' three ratios.
	summary() {
		local name=$1
		shift
		says "$name, median of $runs runs:" \
			"$(printf '%s\n' "$@" | awk '{print $1}' | median)" \
			"$(printf '%s\n' "$@" | awk '{print $2}' | median)" \
			"$(printf '%s\n' "$@" | awk '{print $3}' | median)"
	}
	[[ -n $base ]] && summary "base $base" "${base_ratios[@]}"
	[[ -n $spin ]] && summary "floor +$spin spin" "${spin_ratios[@]}"
	summary routebot "${ratios[@]}"
	# best NAME: NAME's best run against the floor's best, as three ratios.
	best() {
		printf '%s\n' "${runs_of[@]}" | awk -v n="$1" '
			!($1 in rps) || $2 > rps[$1] {rps[$1] = $2}
			!($1 in p99) || $3 < p99[$1] {p99[$1] = $3}
			!($1 in cpu) || $4 < cpu[$1] {cpu[$1] = $4}
			END {printf "%.0f %.2f %.0f", 100*rps[n]/rps["floor"], p99[n]/p99["floor"], 100*cpu["floor"]/cpu[n]}'
	}
	# shellcheck disable=SC2046 # the three ratios, as three words
	[[ -n $base ]] && says "base $base, best figures of $runs runs against the floor's:" $(best base)
	# shellcheck disable=SC2046
	[[ -n $spin ]] && says "floor +$spin spin, best figures of $runs runs against the floor's:" $(best spin)
	# shellcheck disable=SC2046
	says "routebot, best figures of $runs runs against the floor's:" $(best routebot)
	# open_summary NAME RATIO...: the median of the runs' open-loop ratios.
	open_summary() {
		local name=$1
		shift
		printf '%s, median of %s runs: open loop at %s turns/s, p50 %sx and p99 %sx the floor'"'"'s\n' "$name" "$runs" "$rate" \
			"$(printf '%s\n' "$@" | awk '{print $1}' | median)" \
			"$(printf '%s\n' "$@" | awk '{print $2}' | median)"
	}
	if [[ -n $rate ]]; then
		[[ -n $base ]] && open_summary "base $base" "${base_open_ratios[@]}"
		open_summary routebot "${open_ratios[@]}"
	fi
fi
# A busy host moves turns/s and p99 far more than any change: say how busy.
read -r total1 steal1 < <(stolen)
awk -v t=$((total1 - total0)) -v s=$((steal1 - steal0)) 'BEGIN {
	printf "machine: %.0f%% of the CPU time was stolen by the hypervisor during the runs%s\n",
		100*s/(t ? t : 1), (s > 0.02*t ? " (a busy host: the ratios measure it too; re-run in a quieter minute)" : "") }'
