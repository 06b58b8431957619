# shellcheck shell=bash
# The side-by-side harness of run.sh (sourced by it): `run.sh compare`.
#
# Knobs (environment):
#   RATES="500 1000 1500 2000 2500"  call-setup rates of sweep (a), calls/s
#   SECONDS_PER_RATE=5               each rate runs RATE×this many calls
#   CONC="1000 1500"                 concurrent calls of sweep (b)
#   HOLD=40                          seconds each call of sweep (b) lasts
#   REPEAT=2                         runs of each rate and size, interleaved
#   SWEEPS="a b"                     which sweeps (o: the overload sweep, run.sh overload)
#   SB_BIN=/path/to/switchboard      run that build instead of this tree's (an older
#                                    commit: CPU per packet then counts the captured
#                                    packets out, as many in)
#   PROFILE=1                        for each Switchboard run of sweep (a): a CPU profile
#                                    of its middle seconds ($W/cpu-RATE-RUN.prof) and a
#                                    heap profile at its end ($W/heap-RATE-RUN.prof), kept
#                                    with the binary ($W/switchboard; the work dir is
#                                    kept), and the top cumulative entries of our packages
#   OVERLOAD_RATES="1500"            sweep (o): the clean rates whose 1.5× is offered
#   OVERLOAD_FACTOR=1.5              how much over the clean rate sweep (o) offers
#   SHED_MODES="none rate auto"      sweep (o)'s shedding: none (--shed-latency 0); rate =
#                                    --max-calls-per-second RATE alone; auto = --shed-latency
#                                    $SHED_LATENCY (default 20ms, the binary's default)
#   DIAGO_CMD                        a command that starts a diago peer (built from
#                                    a diago source tree outside this repository) on
#                                    127.0.0.1:$PEER_PORT answering every call with a
#                                    1 s prompt (a) or a looped prompt (b, PEER_MODE=hold)
#                                    then hanging up; left out when unset
#
# Before every run it prints the load average; the table at the end gives
# each figure and its ratio to sipp -sn uas (setup rate) and to diago.

CLK_TCK=$(getconf CLK_TCK)

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# cpu_seconds PID: user+system CPU seconds of a process so far.
cpu_seconds() { awk -v t="$CLK_TCK" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"; }

# cpu_split PID: "USER SYSTEM" CPU seconds of a process so far (utime and
# stime of /proc/PID/stat): the system part is the kernel's work for it
# (sends, receives, epoll), which no change to our code's own loops cuts.
cpu_split() { awk -v t="$CLK_TCK" '{printf "%.3f %.3f", $14 / t, $15 / t}' "/proc/$1/stat"; }

# cpu_per_call "USER0 SYS0" "USER1 SYS1" CALLS: the CPU a run took, and
# per call, in user and system time.
cpu_per_call() {
	echo "$1 $2 $3" | awk '{u = $3 - $1; s = $4 - $2; n = $5
		printf "CPU %.2f s (user %.2f, system %.2f)", u + s, u, s
		if (n > 0) printf " = %.3f ms a call (user %.3f, system %.3f; %d calls)", (u + s) * 1000 / n, u * 1000 / n, s * 1000 / n, n }'
}

# ctx_switches PID: the context switches of a process's threads so far
# (voluntary and not, summed over /proc/PID/task: a thread that has ended
# is not counted, and Go seldom ends its threads). Each costs the kernel's
# switch, which on this VM is a large part of the process's CPU (perf).
ctx_switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ {n += $2} END {print n + 0}'
}

# sipp_ok CSV: the successful calls of a sipp -trace_stat file (its last row).
sipp_ok() {
	{ head -1 "$1"; tail -1 "$1"; } 2>/dev/null | awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next}
		NR == 2 && ("SuccessfulCall(C)" in c) {print $c["SuccessfulCall(C)"] + 0; ok = 1} END {if (!ok) print 0}'
}

# profile_begin TAG SECONDS CSV (PROFILE=1): for a run of sweep (a) or
# cps whose calls are placed over SECONDS by a sipp writing its stats to
# CSV, fetches a CPU profile of Switchboard over the middle seconds (the
# first and last quarter, at least a second each, left out: the start-up
# and the tail are not the steady state) into $W/cpu-TAG.prof, in the
# background. The seconds count from sipp's first stats row: sipp itself
# takes seconds to start on a loaded machine.
PROF_PID=""
profile_begin() {
	[ -n "${PROFILE:-}" ] && [ -n "${DEBUG_PORT:-}" ] || return 0
	local d=$2 skip len
	skip=$((d / 4 > 1 ? d / 4 : 1))
	len=$((d - 2 * skip > 1 ? d - 2 * skip : 1))
	rm -f "$W/cpu-$1.prof"
	# The process's own CPU time over the same window goes beside it: the
	# profile sees only what Go's threads do (not, say, the kernel's work
	# on the process's behalf in threads of its own).
	# With perf (PERF=0 leaves it out), perf records the same window: Go's
	# profiler takes a sample when a thread's CPU-time timer expires, and
	# the kernel checks that timer only at a tick the thread is running at,
	# so threads that run in short bursts (woken per packet) are sampled
	# less than they run; perf samples every CPU at its rate, the kernel's
	# work (context switches, sends) included.
	local perf=""
	[ "${PERF:-1}" = 0 ] || ! command -v perf >/dev/null || perf=1
	rm -f "$W/perf-$1.data" "$W/perf-$1.stat"
	(for _ in $(seq 300); do [ -s "$3" ] && break; sleep 0.1; done && sleep "$skip" &&
		c0=$(cpu_split "$SB_PID") &&
		if [ -n "$perf" ]; then
			perf record -q -F 499 -g -p "$SB_PID" -o "$W/perf-$1.data" -- sleep "$len" >/dev/null 2>&1 &
			perf stat -x, -e task-clock,context-switches -p "$SB_PID" -o "$W/perf-$1.stat" -- sleep "$len" >/dev/null 2>&1 &
		fi &&
		curl -fs "http://127.0.0.1:$DEBUG_PORT/debug/pprof/profile?seconds=$len" -o "$W/cpu-$1.prof" &&
		echo "$c0 $(cpu_split "$SB_PID")" >"$W/cpu-$1.cputime" && wait) &
	PROF_PID=$!
	BG_PIDS+=("$PROF_PID")
	echo "   profiling Switchboard's CPU from ${skip}s for ${len}s of the run"
}

# profile_end TAG (PROFILE=1): waits for profile_begin's profile, takes a
# heap profile ($W/heap-TAG.prof), prints both paths and the top
# cumulative entries of our packages in each.
profile_end() {
	[ -n "${PROFILE:-}" ] && [ -n "$PROF_PID" ] || return 0
	wait "$PROF_PID" 2>/dev/null || true
	PROF_PID=""
	local cpu=$W/cpu-$1.prof heap=$W/heap-$1.prof ours='^github\.com/switchboard/switchboard/'
	curl -fs "http://127.0.0.1:$DEBUG_PORT/debug/pprof/heap" -o "$heap" || echo "   (no heap profile: the debug port did not answer)"
	if [ ! -s "$cpu" ]; then
		echo "   (no CPU profile: the debug port did not answer in time)"
	else
		local total
		total=$(cd "$ROOT" && go tool pprof -top -nodecount 1 "$W/switchboard" "$cpu" 2>/dev/null | grep -o 'Total samples = [^ ]*' | cut -d' ' -f4)
		echo "   CPU profile: $cpu (binary: $W/switchboard): samples $total; the process's CPU time over its window: $(awk '{printf "%.2fs (user %.2f, system %.2f)", $3 + $4 - $1 - $2, $3 - $1, $4 - $2}' "$W/cpu-$1.cputime" 2>/dev/null)"
		echo "   top cumulative entries of our packages (% of the samples):"
		(cd "$ROOT" && go tool pprof -top -cum -show "$ours" -nodecount "${PROFILE_TOP:-25}" "$W/switchboard" "$cpu" 2>/dev/null) |
			sed -n '/flat%/,$p' | sed 's/^/     /' || true
	fi
	if [ -s "$W/perf-$1.data" ]; then
		echo "   perf profile of the same window: $W/perf-$1.data ($(awk -F, '$3 == "task-clock" {t = $1} $3 == "context-switches" {c = $1} END {printf "%.2fs of CPU, %d context switches", t / 1000, c}' "$W/perf-$1.stat" 2>/dev/null)); kernel and user, then the top entries (self):"
		perf report -i "$W/perf-$1.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -4 | sed 's/^/     /' || true
		perf report -i "$W/perf-$1.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep '%' | head -"${PROFILE_TOP:-25}" | sed 's/^/     /' || true
		echo "   perf: top cumulative entries of our packages (% of perf's samples):"
		perf report -i "$W/perf-$1.data" --children --sort sym --stdio -g none 2>/dev/null | grep 'switchboard/switchboard/' | head -"${PROFILE_TOP:-25}" | sed 's/^/     /' || true
	fi
	if [ -s "$heap" ]; then
		echo "   heap profile: $heap; top in-use entries of our packages (cumulative):"
		(cd "$ROOT" && go tool pprof -sample_index=inuse_space -top -cum -show "$ours" -nodecount 10 "$W/switchboard" "$heap" 2>/dev/null) |
			sed -n '/flat%/,$p' | sed 's/^/     /' || true
	fi
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# metric NAME: a sample of Switchboard's /metrics (0 when absent, or when
# the build has no --metrics-addr).
metric() {
	[ -n "$METRICS_PORT" ] || { echo 0; return; }
	curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v n="$1" '$1 == n {v = $2} END {print v + 0}'
}

# metric_sum NAME: the sum of a metric's samples over all its labels (0
# when absent).
metric_sum() {
	[ -n "$METRICS_PORT" ] || { echo 0; return; }
	curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v n="$1" 'index($1, n "{") == 1 || $1 == n {v += $2} END {print v + 0}'
}

# sipp_nums CSV START END: "ok failed retrans completed/s rtt_ms" of a run.
sipp_nums() {
	python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
h, v = rows[0], rows[-1]
g = lambda k: v[h.index(k)]
wall = float(sys.argv[3]) - float(sys.argv[2])
ok = int(g("SuccessfulCall(C)"))
rt = g("ResponseTime1(C)").split(":")  # hh:mm:ss:µs
rtt = (int(rt[0]) * 3600 + int(rt[1]) * 60 + int(rt[2])) * 1000 + int(rt[3]) / 1000 if len(rt) == 4 else float("nan")
print(ok, g("FailedCall(C)"), g("Retransmissions(C)"), f"{ok / wall:.0f}", f"{rtt:.0f}")
PY
}

RESULTS=""

# record KIND PEER PARAM REP LOAD FIELDS…: one line of the results file.
record() { echo "$*" >>"$RESULTS"; }

# uas_start: sipp -sn uas in the background; sets UAS_PORT and UAS_PID.
uas_start() {
	UAS_PORT=$(free_port)
	(cd "$W" && sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -nostdin -bg >"$W/uas.out" 2>&1) || true
	UAS_PID=$(grep -o 'PID=\[[0-9]*' "$W/uas.out" | tr -dc 0-9)
	BG_PIDS+=("$UAS_PID")
	sleep 0.3
}

# setup_run PEER RATE REP: one run of sweep (a) against PEER.
setup_run() {
	local peer=$1 rate=$2 rep=$3 calls=$(($2 * ${SECONDS_PER_RATE:-5}))
	local target pid args=() load
	case $peer in
	uas)
		uas_start
		target="127.0.0.1:$UAS_PORT" pid=$UAS_PID
		args=(-sn uac)
		;;
	switchboard)
		target="127.0.0.1:$SIP_PORT" pid=$SB_PID
		args=(-sf "$SCEN/uac_load.xml" -s 1000 -mp "$(free_media_port)")
		;;
	diago)
		PEER_PORT=$(free_port)
		PEER_PORT=$PEER_PORT PEER_MODE=setup PROMPT="$W/prompt1s.wav" bash -c "$DIAGO_CMD" >"$W/diago.log" 2>&1 &
		pid=$!
		BG_PIDS+=("$pid")
		sleep 1
		target="127.0.0.1:$PEER_PORT"
		args=(-sf "$SCEN/uac_load.xml" -s 1000 -mp "$(free_media_port)")
		;;
	esac
	local cpu0 cs0 start end rc attempt stalled="" shed0=0 tag=$rate-$rep
	# The calls Switchboard shed (503, with SHED=1): a clean run sheds none.
	[ "$peer" != switchboard ] || shed0=$(metric_sum switchboard_calls_shed_total)
	for attempt in 1 2; do # a stalled sipp is killed and its run tried once more
		load=$(loadavg)
		echo "-- (a) $peer at $rate calls/s, $calls calls, run $rep; load average $load"
		rc=0
		cpu0=$(cpu_split "$pid")
		cs0=$(ctx_switches "$pid")
		start=$(date +%s.%N)
		rm -f "$W/a-$peer-$rate-$rep.csv"
		[ "$peer" != switchboard ] || profile_begin "$tag" "${SECONDS_PER_RATE:-5}" "$W/a-$peer-$rate-$rep.csv"
		sipp_run "$W/a-$peer-$rate-$rep.csv" "$W/a-$peer-$rate-$rep.out" "$W" "$target" -i 127.0.0.1 -p "$(free_port)" \
			-nostdin -timeout 300s -trace_stat -stf "$W/a-$peer-$rate-$rep.csv" -fd 1 -default_behaviors all,-abortunexp \
			-r "$rate" -m "$calls" -l "$((rate * 4 + 100))" "${args[@]}" || rc=$?
		end=$(date +%s.%N)
		[ "$peer" != switchboard ] || profile_end "$tag"
		[ "$rc" = 124 ] || { stalled=""; break; }
		stalled=stalled
		echo "   STALLED: sipp stalled (the watchdog's line above says how) and was killed$([ "$attempt" = 1 ] && echo '; trying once more')"
	done
	local cpu cpu1 usr sys
	cpu1=$(cpu_split "$pid")
	read -r usr sys <<<"$(echo "$cpu0 $cpu1" | awk '{printf "%.3f %.3f", $3 - $1, $4 - $2}')"
	cpu=$(echo "$usr $sys" | awk '{print $1 + $2}')
	local nums
	nums=$(sipp_nums "$W/a-$peer-$rate-$rep.csv" "$start" "$end")
	local shedn=""
	[ "$peer" != switchboard ] || shedn="; calls shed $(echo "$(metric_sum switchboard_calls_shed_total) $shed0" | awk '{printf "%d", $1 - $2}')"
	echo "   sipp rc=$rc ok/failed/retrans/completed-per-s/INVITE→200-ms: $nums$shedn"
	echo "   $peer $(cpu_per_call "$cpu0" "$cpu1" "${nums%% *}"); $(echo "$cs0 $(ctx_switches "$pid") ${nums%% *}" | awk '{printf "%d context switches (%.1f a call)", $2 - $1, $3 ? ($2 - $1) / $3 : 0}')"
	record a "$peer" "$rate" "$rep" "${load%% *}" $nums "$cpu" "$usr" "$sys" $stalled
	if [ "$peer" != switchboard ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

# hold_run PEER N REP: one run of sweep (b) against a fresh Switchboard (or
# diago): N calls of HOLD seconds, G.711 both ways; CPU per RTP packet (in +
# out, from /metrics; for a peer without them, the captured packets out and
# as many in) and pacing from a capture of what the peer sends.
hold_run() {
	local peer=$1 n=$2 rep=$3 hold=${HOLD:-40}
	local pid target filter media=${MEDIA_PORT:-21000} sipp_port
	sipp_port=$(free_port)
	if [ "$peer" = switchboard ]; then
		start_switchboard
		flow 1001 "{\"module\":\"play\",\"data\":{\"id\":\"$W/prompt10s.wav\",\"answer\":true,\"endless_playback\":true}}"
		pid=$SB_PID target="127.0.0.1:$SIP_PORT" filter="udp and src portrange $RTP_PORTS"
	else
		PEER_PORT=$(free_port)
		PEER_PORT=$PEER_PORT PEER_MODE=hold PROMPT="$W/prompt10s.wav" bash -c "$DIAGO_CMD" >"$W/diago.log" 2>&1 &
		pid=$!
		BG_PIDS+=("$pid")
		sleep 1
		METRICS_PORT=""
		target="127.0.0.1:$PEER_PORT"
		filter="udp and not src portrange $media-$((media + 9)) and not port $PEER_PORT and not port $sipp_port"
	fi
	local rss0 rate ramp window load
	rss0=$(rss_kb "$pid")
	rate=$((n / 10 > 50 ? n / 10 : 50))
	ramp=$((n / rate + 2))
	window=$((hold - ramp - 4 > 10 ? 10 : hold - ramp - 4))
	if [ "$window" -lt 3 ]; then
		echo "run.sh: HOLD too short for the ramp; give HOLD > $((ramp + 7))" >&2
		exit 1
	fi
	load=$(loadavg)
	echo "-- (b) $peer, $n concurrent calls of ${hold}s, run $rep; load average $load"
	(cd "$W" && exec sipp "$target" -sf "$SCEN/uac_rtp_hold.xml" -s 1001 -i 127.0.0.1 -p "$sipp_port" \
		-mp "$media" -r "$rate" -m "$n" -l "$n" -d "$((hold * 1000))" -nostdin -timeout 600s \
		-trace_stat -stf "$W/b-$peer-$n-$rep.csv" -fd 1 -default_behaviors all,-abortunexp >"$W/b-$peer-$n-$rep.out" 2>&1) &
	local sipp_pid=$! start
	BG_PIDS+=("$sipp_pid")
	start=$(date +%s.%N)
	sleep "$ramp"
	local cpu0 in0 out0 cpu1 in1 out1 rss1
	cpu0=$(cpu_seconds "$pid")
	in0=$(metric 'switchboard_rtp_packets_total{direction="in"}')
	out0=$(metric 'switchboard_rtp_packets_total{direction="out"}')
	dumpcap -q -P -i lo -B 128 -s 64 -f "$filter" -a "duration:$window" \
		-w "$W/b-$peer-$n-$rep.pcap" 2>"$W/dumpcap.err" || { cat "$W/dumpcap.err" >&2; exit 1; }
	cpu1=$(cpu_seconds "$pid")
	in1=$(metric 'switchboard_rtp_packets_total{direction="in"}')
	out1=$(metric 'switchboard_rtp_packets_total{direction="out"}')
	rss1=$(rss_kb "$pid")
	local pace
	pace=$(pacing_nums "$W/b-$peer-$n-$rep.pcap" "$window")
	local stalled=""
	sipp_watch "$W/b-$peer-$n-$rep.csv" "$sipp_pid" "$hold" || { [ $? != 124 ] || stalled=stalled; }
	[ -z "$stalled" ] || echo "   STALLED: sipp stalled after the capture (the watchdog's line above says how) and was killed (its calls' figures are partial)"
	local end nums
	end=$(date +%s.%N)
	nums=$(sipp_nums "$W/b-$peer-$n-$rep.csv" "$start" "$end")
	if [ -z "$METRICS_PORT" ]; then # no /metrics: the capture's packets out, as many in
		local cap
		cap=$(rtp_count "$W/b-$peer-$n-$rep.pcap")
		in0=0 out0=0 in1=$cap out1=$cap
	fi
	local cpp kb
	cpp=$(echo "$cpu0 $cpu1 $in0 $in1 $out0 $out1" | awk '{p = ($4 - $3) + ($6 - $5); printf "%.2f", (p > 0 ? ($2 - $1) * 1e6 / p : 0)}')
	kb=$(echo "$rss0 $rss1 $n" | awk '{printf "%.0f", ($2 - $1) / $3}')
	echo "   sipp ok/failed/retrans: $(echo "$nums" | cut -d' ' -f1-3); packets in $((${in1%.*} - ${in0%.*})) out $((${out1%.*} - ${out0%.*})) in ${window}s; CPU ${cpp} µs/packet; RSS +${kb} KB/call"
	echo "   capture: $pace"
	record b "$peer" "$n" "$rep" "${load%% *}" $nums "$cpp" "$kb" $pace $stalled
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ "$peer" != switchboard ] || SB_PID=""
}

# sipp_shed_nums CSV START END: "ok failed retrans rtt200_ms rtt503_ms" of
# an overload run (uac_load_shed.xml: response time 1 to the 200s, 2 to
# the 503s).
sipp_shed_nums() {
	python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
h, v = rows[0], rows[-1]
g = lambda k: v[h.index(k)] if k in h else ""
def ms(k):
    rt = g(k).split(":")  # hh:mm:ss:µs
    return f"{(int(rt[0]) * 3600 + int(rt[1]) * 60 + int(rt[2])) * 1000 + int(rt[3]) / 1000:.0f}" if len(rt) == 4 else "nan"
print(g("SuccessfulCall(C)"), g("FailedCall(C)"), g("Retransmissions(C)"), ms("ResponseTime1(C)"), ms("ResponseTime2(C)"))
PY
}

# udp_drops PORT: datagrams the kernel dropped at Switchboard's SIP socket
# (receive buffer full: the server fell behind), from /proc/net/udp*.
udp_drops() {
	awk -v port="$(printf '%04X' "$1")" '$2 ~ ":"port"$" {d += $NF} END {print d + 0}' /proc/net/udp /proc/net/udp6 2>/dev/null
}

# overload_run MODE RATE REP: one run of sweep (o): a fresh Switchboard
# with MODE's shedding, offered OVERLOAD_FACTOR × RATE calls a second for
# SECONDS_PER_RATE seconds (answer, 1 s prompt, BYE, or a 503). The 503s
# are Switchboard's own count (/metrics); the calls taken are the rest.
overload_run() {
	local mode=$1 rate=$2 rep=$3 offered calls flags=""
	offered=$(echo "$rate ${OVERLOAD_FACTOR:-1.5}" | awk '{printf "%d", $1 * $2}')
	calls=$((offered * ${SECONDS_PER_RATE:-5}))
	case $mode in
	none) flags="--shed-latency 0" ;; # on by default since issue 16's second session
	rate) flags="--max-calls-per-second $rate --shed-latency 0" ;;
	auto) flags="--shed-latency ${SHED_LATENCY:-20ms}" ;;
	esac
	SB_FLAGS=$flags start_switchboard
	if [ "$mode" = auto ] && ! grep -q -- --shed-latency <<<"$SB_HELP"; then
		echo "-- (o) $mode: this build has no --shed-latency; skipped"
		kill "$SB_PID" 2>/dev/null || true
		wait "$SB_PID" 2>/dev/null || true
		SB_PID=""
		return
	fi
	flow 1000 "{\"module\":\"play\",\"data\":{\"id\":\"$W/prompt1s.wav\",\"answer\":true}}"
	local load
	load=$(loadavg)
	echo "-- (o) shedding $mode, clean rate $rate, offered $offered calls/s, $calls calls, run $rep; load average $load"
	local cpu0 shed0 start end rc=0
	cpu0=$(cpu_seconds "$SB_PID")
	shed0=$(metric_sum switchboard_calls_shed_total)
	local taken0
	taken0=$(metric switchboard_calls_started_total)
	local drops0
	drops0=$(udp_drops "$SIP_PORT")
	# The shedding's trace, sampled every 0.25 s (0.1 with TRACE=1) from /metrics: seconds since
	# the start, the adaptive cap (switchboard_shed_cap_calls_per_second, 0:
	# none), the scheduler's p99 (ms), the calls in setup (0 in a build
	# without the gauge), calls started and shed so far. Its mean cap over
	# the samples with a cap goes in the table; trace_lag reads the rest.
	local capfile=$W/o-$mode-$rate-$rep.trace
	: >"$capfile"
	local t0
	t0=$(date +%s.%N)
	(while kill -0 "$SB_PID" 2>/dev/null; do
		curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null | awk -v t0="$t0" -v now="$(date +%s.%N)" '
			$1 == "switchboard_shed_cap_calls_per_second" {cap = $2}
			$1 == "switchboard_sched_latency_p99_seconds" {p99 = $2 * 1000}
			$1 == "switchboard_calls_in_setup" {setup = $2}
			$1 == "switchboard_shed_setup_seconds" {st = $2 * 1000}
			$1 == "switchboard_calls_started_total" {started = $2}
			index($1, "switchboard_calls_shed_total{") == 1 {shed += $2}
			$1 == "switchboard_shed_limit_calls" {limit = $2}
			$1 == "switchboard_shed_calls_in_progress" {inprog = $2}
			END {printf "%.2f %d %.1f %d %d %d %.1f %d %d\n", now - t0, cap, p99, setup, started, shed, st, limit, inprog}' >>"$capfile"
		sleep "$([ -n "${TRACE:-}" ] && echo 0.1 || echo 0.25)"
	done) &
	local cap_pid=$!
	start=$(date +%s.%N)
	rm -f "$W/o-$mode-$rate-$rep.csv"
	sipp_run "$W/o-$mode-$rate-$rep.csv" "$W/o-$mode-$rate-$rep.out" "$W" "127.0.0.1:$SIP_PORT" -sf "$SCEN/uac_load_shed.xml" \
		-s 1000 -mp "$(free_media_port)" -i 127.0.0.1 -p "$(free_port)" -nostdin -timeout 300s -trace_stat \
		-stf "$W/o-$mode-$rate-$rep.csv" -fd 1 -default_behaviors all,-abortunexp -r "$offered" -m "$calls" \
		-l "$((offered * 4 + 100))" || rc=$?
	end=$(date +%s.%N)
	kill "$cap_pid" 2>/dev/null || true
	wait "$cap_pid" 2>/dev/null || true
	local capmean
	capmean=$(awk '$2 > 0 {s += $2; n++} END {printf "%d", n ? s / n : 0}' "$capfile")
	[ -z "${TRACE:-}" ] || trace_lag "$capfile"
	local cpu shed nums
	cpu=$(echo "$(cpu_seconds "$SB_PID") $cpu0" | awk '{print $1 - $2}')
	shed=$(echo "$(metric_sum switchboard_calls_shed_total) $shed0" | awk '{printf "%d", $1 - $2}')
	local taken
	taken=$(echo "$(metric switchboard_calls_started_total) $taken0" | awk '{printf "%d", $1 - $2}')
	nums=$(sipp_shed_nums "$W/o-$mode-$rate-$rep.csv" "$start" "$end")
	local drops
	drops=$(($(udp_drops "$SIP_PORT") - drops0))
	echo "   sipp rc=$rc ok/failed/retrans/INVITE→200-ms/INVITE→503-ms: $nums; calls taken $taken; calls shed $shed (its /metrics; 0 in a build without them); SIP datagrams dropped $drops; CPU ${cpu}s; mean cap while capped ${capmean}/s (0: never capped, or a build without the gauge)"
	kill "$SB_PID" 2>/dev/null || true
	wait "$SB_PID" 2>/dev/null || true
	SB_PID=""
	if [ "$rc" = 124 ] && [ -z "${OVERLOAD_RETRIED:-}" ]; then
		echo "   STALLED: sipp stalled (the watchdog's line above says how) and was killed; trying once more on a fresh Switchboard"
		OVERLOAD_RETRIED=1 overload_run "$@"
		return
	fi
	local stalled=""
	if [ "$rc" = 124 ]; then
		stalled=stalled
		echo "   STALLED again: sipp stalled (the watchdog's line above says how) and was killed; the row is marked stalled"
	fi
	record o "$mode" "$rate" "$rep" "${load%% *}" "$offered" $nums "$taken" "$cpu" "$drops" "$shed" "$capmean" "${SECONDS_PER_RATE:-5}" $stalled
}

# trace_lag TRACE prints an overload run's trace (TRACE=1): per 0.1 s
# sample, the cap, the scheduler's p99, the calls in setup and the rates
# taken and shed since the last sample, so that what the signal did can be
# set beside what the cap did.
trace_lag() {
	python3 - "$1" <<'PY'
import sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 9]
print("   trace: t(s) cap(/s) sched-p99(ms) in-setup setup-time(ms) taken(/s) shed(/s) limit in-progress")
for (t0, _, _, _, s0, d0, _, _, _), (t, cap, p99, setup, s, d, st, limit, inprog) in zip(rows, rows[1:]):
    dt = max(t - t0, 1e-3)
    if s > s0 or d > d0 or cap > 0:
        print(f"   {t:6.2f} {cap:6.0f} {p99:8.1f} {setup:6.0f} {st:8.1f} {(s - s0) / dt:7.0f} {(d - d0) / dt:7.0f} {limit:6.0f} {inprog:6.0f}")
PY
}

# rtp_count PCAP: the RTP packets in a capture (no RTCP).
rtp_count() {
	python3 - "$1" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb")
f.read(24)
n = 0
while True:
    h = f.read(16)
    if len(h) < 16:
        break
    d = f.read(struct.unpack("<IIII", h)[2])
    if len(d) >= 44 and d[12:14] == b"\x08\x00":
        rtp = 14 + (d[14] & 0x0F) * 4 + 8
        if len(d) > rtp + 1 and d[rtp] >> 6 == 2 and not 200 <= d[rtp + 1] <= 204:
            n += 1
print(n)
PY
}

# pacing_nums PCAP WINDOW: "streams p50 p99 max share95" of Switchboard's
# RTP: |Δt − 20 ms| between consecutive sequence numbers, and the share of
# streams that sent ≥ 95 % of the window's 50 packets a second.
pacing_nums() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
from collections import defaultdict
f = open(sys.argv[1], "rb")
window = float(sys.argv[2])
nano = struct.unpack("<I", f.read(4))[0] == 0xA1B23C4D
f.read(20)
streams = defaultdict(list)
while True:
    h = f.read(16)
    if len(h) < 16:
        break
    sec, frac, incl, _ = struct.unpack("<IIII", h)
    d = f.read(incl)
    if len(d) < 54 or d[12:14] != b"\x08\x00":
        continue
    udp = 14 + (d[14] & 0x0F) * 4
    sport, dport = struct.unpack(">HH", d[udp:udp + 4])
    rtp = udp + 8
    if d[rtp] >> 6 != 2 or 200 <= d[rtp + 1] <= 204:
        continue
    streams[(sport, dport)].append((sec + frac / (1e9 if nano else 1e6), struct.unpack(">H", d[rtp + 2:rtp + 4])[0]))
devs = []
for pk in streams.values():
    for (t1, s1), (t2, s2) in zip(pk, pk[1:]):
        if (s2 - s1) & 0xFFFF == 1:
            devs.append(abs((t2 - t1) - 0.020) * 1000)
devs.sort()
q = lambda p: devs[min(len(devs) - 1, int(p * len(devs)))] if devs else float("nan")
calls = [pk for pk in streams.values() if len(pk) >= 10]  # RTP streams, not stray packets
full = sum(1 for pk in calls if len(pk) >= 0.95 * 50 * (window - 0.1))
share = 100.0 * full / max(len(calls), 1)
print(len(calls), f"{q(0.5):.2f}", f"{q(0.99):.2f}", f"{devs[-1] if devs else float('nan'):.2f}", f"{share:.1f}")
PY
}

# table prints the results file as one table with ratios.
table() {
	python3 - "$RESULTS" <<'PY'
import sys
from collections import defaultdict
a, b, o = defaultdict(dict), [], []
stalled = set()  # rows whose sipp stalled (watchdog.sh) after its retry
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[-1] == "stalled":
        f = f[:-1]
        stalled.add(tuple(f[:4]))
    if f[0] == "o":
        o.append(f)
    elif f[0] == "a":
        _, peer, rate, rep, load, ok, failed, retrans, cps, rtt, cpu = f[:11]
        usr, sys_ = (float(f[11]), float(f[12])) if len(f) >= 13 else (None, None)  # user and system CPU, when recorded
        a[(int(rate), int(rep))][peer] = dict(load=load, ok=int(ok), failed=int(failed), retrans=int(retrans), cps=float(cps), rtt=rtt, cpu=float(cpu), usr=usr, sys=sys_)
    else:
        b.append(f)
if a:
    print("\n(a) call setup: answer → 1 s prompt → BYE (sipp -sn uas: signalling only)")
    print("   CPU/call = the peer's CPU time over the run ÷ its calls; usr/sys = its user and system (kernel) parts, ms a call")
    print(f"{'rate':>6} {'run':>3} {'peer':<12} {'load':>5} {'ok':>7} {'failed':>6} {'retrans':>7} {'done/s':>7} {'INV→200':>8} {'CPU/call':>9} {'usr/sys':>11}  {'÷uas':>5} {'÷diago':>6}")
    for (rate, rep), peers in sorted(a.items()):
        uas, diago = peers.get("uas"), peers.get("diago")
        for name in ("uas", "switchboard", "diago"):
            r = peers.get(name)
            if not r:
                continue
            cpc = f"{r['cpu'] * 1000 / r['ok']:.3f}ms" if r["ok"] else "-"
            us = f"{r['usr'] * 1000 / r['ok']:.3f}/{r['sys'] * 1000 / r['ok']:.3f}" if r["ok"] and r["usr"] is not None else "-"
            ru = f"{r['cps'] / uas['cps']:.2f}" if uas and uas["cps"] else "-"
            rd = f"{r['cps'] / diago['cps']:.2f}" if diago and diago["cps"] else "-"
            clean = "" if r["failed"] == 0 and r["retrans"] <= r["ok"] // 100 else "  NOT CLEAN"
            if ("a", name, str(rate), str(rep)) in stalled:
                clean += "  STALLED"
            print(f"{rate:>6} {rep:>3} {name:<12} {r['load']:>5} {r['ok']:>7} {r['failed']:>6} {r['retrans']:>7} {r['cps']:>7.0f} {r['rtt']+'ms':>8} {cpc:>9} {us:>11}  {ru:>5} {rd:>6}{clean}")
if a:
    best = {}
    for (rate, rep), peers in a.items():
        for name, r in peers.items():
            best.setdefault(name, {}).setdefault(rate, []).append(r["failed"] == 0 and r["retrans"] <= r["ok"] // 100 and ("a", name, str(rate), str(rep)) not in stalled)
    clean = {n: max([rt for rt, oks in rates.items() if all(oks)], default=0) for n, rates in best.items()}
    line = ", ".join(f"{n} {clean[n]}/s" for n in ("uas", "switchboard", "diago") if n in clean)
    print(f"highest rate clean in every run (0 failed, retransmissions ≤ 1 %): {line}")
    if clean.get("uas"):
        print(f"  switchboard ÷ uas = {clean.get('switchboard', 0) / clean['uas']:.2f}" +
              (f", switchboard ÷ diago = {clean['switchboard'] / clean['diago']:.2f}" if clean.get("diago") else ""))
if b:
    print("\n(b) concurrent calls, G.711 both ways (Switchboard's RTP captured)")
    print(f"{'calls':>6} {'run':>3} {'peer':<12} {'load':>5} {'ok':>6} {'failed':>6} {'µs/pkt':>7} {'KB/call':>7} {'p50':>6} {'p99':>6} {'max':>7} {'≥95%':>6}")
    for f in b:
        _, peer, n, rep, load, ok, failed, retrans, cps, rtt, cpp, kb, streams, p50, p99, mx, share = f
        mark = "  STALLED" if ("b", peer, n, rep) in stalled else ""
        print(f"{n:>6} {rep:>3} {peer:<12} {load:>5} {ok:>6} {failed:>6} {cpp:>7} {kb:>7} {p50+'ms':>6} {p99+'ms':>6} {mx+'ms':>7} {share+'%':>6}{mark}")
if o:
    print("\n(o) overload: the clean rate × OVERLOAD_FACTOR offered; taken = calls Switchboard ran, shed = calls it refused for load (both from its /metrics); drops = SIP datagrams the kernel dropped (clean: 0 failed, retransmissions ≤ 1 % of the calls)")
    print("   taken/s = calls taken ÷ the seconds offered; ÷rate = that ÷ the clean rate; cap = the mean adaptive cap while capped")
    print(f"{'rate':>6} {'offered':>7} {'run':>3} {'shedding':<8} {'load':>5} {'ok':>7} {'taken':>6} {'taken/s':>7} {'÷rate':>5} {'cap':>5} {'shed':>6} {'failed':>6} {'retrans':>7} {'INV→200':>8} {'INV→503':>8} {'CPU/taken':>9} {'drops':>6}")
    for f in o:
        _, mode, rate, rep, load, offered, ok, failed, retrans, rtt200, rtt503, taken, cpu, drops, shed, capmean, secs = f
        taken = int(taken)
        shed = int(shed) or int(ok) + int(failed) - taken  # an older build: what sipp completed and was not taken
        cpt = f"{float(cpu) * 1000 / taken:.3f}ms" if taken > 0 else "-"
        clean = "" if int(failed) == 0 and int(retrans) <= (int(ok) + int(failed)) // 100 else "  NOT CLEAN"
        if ("o", mode, rate, rep) in stalled:
            clean += "  STALLED"
        tps = taken / float(secs)
        print(f"{rate:>6} {offered:>7} {rep:>3} {mode:<8} {load:>5} {ok:>7} {taken:>6} {tps:>7.0f} {tps / int(rate):>5.2f} {capmean:>5} {shed:>6} {failed:>6} {retrans:>7} {rtt200+'ms':>8} {rtt503+'ms':>8} {cpt:>9} {drops:>6}{clean}")
PY
}

compare() {
	need sipp sip-tester
	need curl curl
	RESULTS=$W/results.txt
	: >"$RESULTS"
	audio
	local sweeps=${SWEEPS:-a b} rep rate n
	echo "== compare on $(nproc) CPUs, commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'); load average $(loadavg)"
	[ -n "${DIAGO_CMD:-}" ] || echo "   (diago: not run; set DIAGO_CMD to include it)"
	if [[ $sweeps == *a* ]]; then
		start_switchboard
		flow 1000 "{\"module\":\"play\",\"data\":{\"id\":\"$W/prompt1s.wav\",\"answer\":true}}"
		for rate in ${RATES:-500 1000 1500 2000 2500}; do
			for rep in $(seq "${REPEAT:-2}"); do
				setup_run uas "$rate" "$rep"
				setup_run switchboard "$rate" "$rep"
				[ -z "${DIAGO_CMD:-}" ] || setup_run diago "$rate" "$rep"
			done
		done
		kill "$SB_PID" 2>/dev/null || true
		wait "$SB_PID" 2>/dev/null || true
		SB_PID=""
	fi
	if [[ $sweeps == *b* ]]; then
		need dumpcap "tshark (for dumpcap; say yes to non-root capture or run as root)"
		for n in ${CONC:-1000 1500}; do
			for rep in $(seq "${REPEAT:-2}"); do
				hold_run switchboard "$n" "$rep"
				[ -z "${DIAGO_CMD:-}" ] || hold_run diago "$n" "$rep"
			done
		done
	fi
	if [[ $sweeps == *o* ]]; then
		for rate in ${OVERLOAD_RATES:-1500}; do
			for rep in $(seq "${REPEAT:-2}"); do
				for mode in ${SHED_MODES:-none rate auto}; do
					overload_run "$mode" "$rate" "$rep"
				done
			done
		done
	fi
	table
}

# overload [RATE]: sweep (o) alone, at the clean rate RATE (default 1500).
overload() {
	SWEEPS=o OVERLOAD_RATES=${1:-${OVERLOAD_RATES:-1500}} compare
}
