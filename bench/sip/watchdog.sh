# shellcheck shell=bash
# Guards of run.sh's runs (sourced by it, and by watchdog_test.sh):
#
#   sipp_run CSV OUT DIR SIPP-ARGS…  runs sipp in DIR (output to OUT, its
#                                    -trace_stat file CSV) under sipp_watch;
#                                    SIPP_HOLD: as sipp_watch's HOLD
#   sipp_watch CSV PID [HOLD]        waits for a sipp already started in the
#                                    background (PID); kills it and returns
#                                    124 when it stalls: its CSV has not
#                                    changed for SIPP_STALL seconds (default
#                                    20; sipp rewrites it every second with
#                                    -fd 1), or its call counters (created,
#                                    successful, failed) have not moved for
#                                    HOLD + SIPP_CALL_STALL seconds (default
#                                    HOLD 0, SIPP_CALL_STALL 40) while calls
#                                    are in progress
#   rtp_ports_claim                  takes RTP_PORTS for this run, or picks a
#                                    free block of RTP_PORT_BLOCKS when it is
#                                    unset; refuses (exit 1) when another run
#                                    holds a range that overlaps it
#   run_guard / run_reap             mark every process this run starts, and
#                                    end them all (orphans too) when it ends
#
# Why: sipp sometimes stops progressing (its stats file stops updating)
# and a run hung until someone killed it; sometimes it keeps writing its
# stats but one call never ends (waiting for a 200 with no timeout) and
# it waited out its -timeout (300 s); a killed run left a sipp behind
# holding its RTP port lock; and two runs whose RTP ranges overlap mix
# each other's streams in their captures.

SIPP_STALL=${SIPP_STALL:-20}

# SIPP_CALL_STALL: how long the call counters may stand still (beyond a
# call's HOLD) with calls in progress. Longer than any timer a call of the
# harness's scenarios legitimately waits on (a BYE's 30 s timeout, a SIP
# transaction's 32 s), so such a call ends counted as failed, not stalled.
SIPP_CALL_STALL=${SIPP_CALL_STALL:-40}

# file_sig FILE: its size and modification time, "-" while it is missing.
file_sig() { stat -c '%s %Y' "$1" 2>/dev/null || echo -; }

# sipp_counts CSV: "CREATED SUCCESSFUL FAILED IN-PROGRESS" from the last
# row of a sipp -trace_stat file (columns found by name in its header);
# "-" while it has no row.
sipp_counts() {
	[ -s "$1" ] || { echo -; return; }
	{ head -1 "$1"; tail -1 "$1"; } 2>/dev/null | awk -F';' '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		NR == 2 && ("TotalCallCreated" in col) && ("CurrentCall" in col) {
			print $col["TotalCallCreated"], $col["SuccessfulCall(C)"], $col["FailedCall(C)"], $col["CurrentCall"]; done = 1 }
		END { if (!done) print "-" }'
}

# sipp_kill PID: TERM, then KILL after 2 s.
sipp_kill() {
	kill "$1" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.2
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# sipp_watch CSV PID [HOLD]: waits for PID; kills it when CSV has not
# changed for SIPP_STALL seconds, or when its call counters have not moved
# for HOLD + SIPP_CALL_STALL seconds while calls are in progress (HOLD:
# how long a call of the run legitimately lasts with nothing counted, the
# held calls of sweep (b); 0 for calls of a second or two). Returns sipp's
# status, or 124 when it stalled.
sipp_watch() {
	local csv=$1 pid=$2 hold=${3:-0} sig last now counts lastc
	local changed=$SECONDS moved=$SECONDS # when the file last changed, the counters last moved
	last=$(file_sig "$csv")
	lastc=$(sipp_counts "$csv")
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(file_sig "$csv")
		if [ "$now" != "$last" ]; then
			last=$now changed=$SECONDS
			counts=$(sipp_counts "$csv")
			# The counters but the calls in progress move only when a call
			# is created or ends; with none in progress nothing is owed.
			if [ "$counts" = - ] || [ "${counts% *}" != "${lastc% *}" ] || [ "${counts##* }" = 0 ]; then
				lastc=$counts moved=$SECONDS
			fi
		fi
		if [ $((SECONDS - changed)) -ge "$SIPP_STALL" ]; then
			echo "   sipp (pid $pid) stalled: $csv unchanged for ${SIPP_STALL}s; killed" >&2
			sipp_kill "$pid"
			return 124
		fi
		if [ $((SECONDS - moved)) -ge $((hold + SIPP_CALL_STALL)) ]; then
			echo "   sipp (pid $pid) stalled: its calls created/successful/failed (${lastc% *}) have not moved for $((hold + SIPP_CALL_STALL))s with ${lastc##* } call(s) in progress; killed" >&2
			sipp_kill "$pid"
			return 124
		fi
	done
	sig=0
	wait "$pid" 2>/dev/null || sig=$?
	return "$sig"
}

# sipp_run CSV OUT DIR ARGS…: sipp ARGS… in DIR, its output to OUT, under
# sipp_watch (HOLD from SIPP_HOLD). ARGS must include -trace_stat -stf CSV.
sipp_run() {
	local csv=$1 out=$2 dir=$3
	shift 3
	(cd "$dir" && exec sipp "$@" >"$out" 2>&1) &
	local pid=$!
	BG_PIDS+=("$pid")
	local rc=0
	sipp_watch "$csv" "$pid" "${SIPP_HOLD:-0}" || rc=$?
	# sipp's fatal errors (it could not start: a port taken, a bad
	# scenario) say why only in its output.
	[ "$rc" -lt 250 ] || { echo "   sipp exited $rc; its last lines:"; tail -3 "$out" | sed 's/^/     /'; } >&2
	return "$rc"
}

# The blocks a run without RTP_PORTS picks from: 6,000 port pairs each.
# A call holds a pair for its length and the pool's reuse hold (a pair is
# reused 100 ms after its call, with 128 pairs behind it): at 2,000
# calls/s of 1 s prompts, 2,000 × (1 s + 0.1 s) × 2 (calls slowed to 2 s
# on a loaded machine) + 128 ≈ 4,500 pairs; 2,500 calls/s ≈ 5,600; 1,000
# bridged calls 2,000. Two blocks, so two runs can share the machine
# (blocks of 2,500 pairs refused calls at 2,000/s once calls lasted 1.25 s).
RTP_PORT_BLOCKS=${RTP_PORT_BLOCKS:-"40000-51999 52000-63999"}
RTP_LOCK_DIR=${RTP_LOCK_DIR:-/tmp}

# ranges_overlap A-B C-D: whether two port ranges share a port.
ranges_overlap() {
	local a=${1%-*} b=${1#*-} c=${2%-*} d=${2#*-}
	[ "$a" -le "$d" ] && [ "$c" -le "$b" ]
}

# rtp_range_held RANGE [OURS]: prints the range (and holder) of a live
# run's claim that overlaps RANGE (OURS, our own claim's file, aside);
# nothing when none does. A claim is a lock
# file held with flock by the run that made it: a stale file (its run
# gone) is free.
rtp_range_held() {
	local f other
	for f in "$RTP_LOCK_DIR"/switchboard-bench-rtp.*.lock; do
		[ -e "$f" ] && [ "$f" != "${2:-}" ] || continue
		other=${f##*/switchboard-bench-rtp.}
		other=${other%.lock}
		ranges_overlap "$1" "$other" || continue
		if ! flock -n "$f" true 2>/dev/null; then
			echo "$other (pid $(cat "$f" 2>/dev/null || echo ?))"
			return
		fi
	done
}

# rtp_ports_claim: sets RTP_PORTS to a range no other run of the harness
# holds and holds it (an open, flock-ed file, released when the run's
# processes end); exits with a clear message when RTP_PORTS is set and
# overlaps another run's range.
rtp_ports_claim() {
	local want=${RTP_PORTS:-} held range
	if ! [[ -z $want || $want =~ ^[0-9]+-[0-9]+$ ]]; then
		echo "run.sh: RTP_PORTS=$want: want FIRST-LAST, e.g. 52000-55999" >&2
		exit 1
	fi
	for range in ${want:-$RTP_PORT_BLOCKS}; do
		held=$(rtp_range_held "$range")
		if [ -n "$held" ]; then
			if [ -n "$want" ]; then
				echo "run.sh: RTP_PORTS=$want overlaps $held, which another bench run is using: its captures and ours would mix. Give a range apart (free blocks: unset RTP_PORTS to pick one) or wait for it." >&2
				exit 1
			fi
			continue
		fi
		exec {RTP_LOCK_FD}>"$RTP_LOCK_DIR/switchboard-bench-rtp.$range.lock"
		if ! flock -n "$RTP_LOCK_FD"; then # taken between the check and now
			exec {RTP_LOCK_FD}>&-
			[ -z "$want" ] && continue
			echo "run.sh: RTP_PORTS=$want is being taken by another bench run; give another range" >&2
			exit 1
		fi
		echo $$ >"$RTP_LOCK_DIR/switchboard-bench-rtp.$range.lock"
		# A claim made before ours may overlap without sharing our name.
		held=$(rtp_range_held "$range" "$RTP_LOCK_DIR/switchboard-bench-rtp.$range.lock")
		if [ -n "$held" ]; then
			exec {RTP_LOCK_FD}>&-
			rm -f "$RTP_LOCK_DIR/switchboard-bench-rtp.$range.lock"
			[ -z "$want" ] && continue
			echo "run.sh: RTP_PORTS=$want overlaps $held, which another bench run is using" >&2
			exit 1
		fi
		RTP_PORTS=$range
		return
	done
	echo "run.sh: every RTP port block ($RTP_PORT_BLOCKS) is in use by other bench runs; give RTP_PORTS a free range" >&2
	exit 1
}

# run_guard marks every process this run starts from now on (an
# environment variable its programs inherit, SWITCHBOARD_BENCH_RUN) and
# turns INT, TERM and HUP into an exit, so that the EXIT trap runs and
# run_reap ends them. Why a mark and not the process group: run from
# another program (go test, a script) the run shares its caller's group,
# which it must not kill; and a process whose parent died (a sipp whose
# subshell was killed) leaves the tree but keeps the mark.
run_guard() {
	SWITCHBOARD_BENCH_RUN="$$-$(date +%s%N)"
	export SWITCHBOARD_BENCH_RUN
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# run_reap ends every process this run started that is still alive: the
# descendants of this shell, and any process carrying this run's mark
# (run_guard), orphans included. TERM first, KILL 2 s later. Prints what
# it had to end to stderr.
run_reap() {
	python3 - "$$" "${SWITCHBOARD_BENCH_RUN:-}" <<'PY' || true
import os, signal, sys, time
root, mark = int(sys.argv[1]), sys.argv[2].encode()
me = os.getpid()
def procs():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                st = f.read()
            state, ppid = st[st.rindex(b")") + 2:].split()[:2]
            if state == b"Z":  # dead already, waiting for its parent
                continue
            env = b""
            if mark:
                with open(f"/proc/{d}/environ", "rb") as f:
                    env = f.read()
            out[pid] = (int(ppid), bool(mark) and (b"\0SWITCHBOARD_BENCH_RUN=" + mark + b"\0") in b"\0" + env)
        except (OSError, ValueError, IndexError):
            pass
    return out
def ours():
    p = procs()
    kids = {}
    for pid, (ppid, _) in p.items():
        kids.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            if k not in found:
                found.add(k)
                todo.append(k)
    found |= {pid for pid, (_, marked) in p.items() if marked}
    return found - {root, me, os.getppid()}
def comm(pid):
    try:
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        return "?"
left = ours()
if left:
    print("run.sh: ending what this run left running: " + ", ".join(f"{comm(p)} ({p})" for p in sorted(left)), file=sys.stderr)
for sig in (signal.SIGTERM, signal.SIGKILL):
    for pid in left:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    for _ in range(20):
        left = {p for p in ours() if p in left}
        if not left:
            sys.exit(0)
        time.sleep(0.1)
PY
}

# rtp_pairs_setup RATE: the port pairs a run placing RATE calls a second
# of about a second (answer, 1 s prompt or 1 s of audio, BYE) may hold at
# once: RATE × (1 s + the pool's 0.1 s reuse hold) × 2 (calls slowed to
# twice their length on a loaded machine) + the pool's 128 held back.
rtp_pairs_setup() { echo $(($1 * 11 * 2 / 10 + 128)); }

# rtp_ports_check PAIRS WHAT: warns (stderr) when RTP_PORTS has fewer port
# pairs than PAIRS, what WHAT (a run's description) may hold at once: its
# calls would be refused with "no free RTP port pair" and count as
# Switchboard's failures.
rtp_ports_check() {
	local have=$(((${RTP_PORTS#*-} - ${RTP_PORTS%-*} + 1) / 2))
	[ "$have" -lt "$1" ] || return 0
	echo "run.sh: warning: RTP_PORTS=$RTP_PORTS has $have port pairs; $2 may hold up to $1 at once, so calls may be refused with \"no free RTP port pair\": give RTP_PORTS a range of $((2 * $1)) ports or more" >&2
}
