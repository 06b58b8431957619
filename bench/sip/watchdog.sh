# shellcheck shell=bash
# Guards of run.sh's runs (sourced by it, and by watchdog_test.sh):
#
#   sipp_run CSV OUT DIR SIPP-ARGS…  runs sipp in DIR (output to OUT, its
#                                    -trace_stat file CSV) under a watchdog:
#                                    when CSV stops changing for SIPP_STALL
#                                    seconds (default 20; sipp rewrites it
#                                    every second with -fd 1), sipp is
#                                    killed and the call returns 124
#   sipp_watch CSV PID               the same watch on a sipp already started
#                                    in the background (PID)
#   rtp_ports_claim                  takes RTP_PORTS for this run, or picks a
#                                    free block of RTP_PORT_BLOCKS when it is
#                                    unset; refuses (exit 1) when another run
#                                    holds a range that overlaps it
#
# Why: sipp sometimes stops progressing (its stats file stops updating)
# and a run hung until someone killed it; and two runs whose RTP ranges
# overlap mix each other's streams in their captures.

SIPP_STALL=${SIPP_STALL:-20}

# file_sig FILE: its size and modification time, "-" while it is missing.
file_sig() { stat -c '%s %Y' "$1" 2>/dev/null || echo -; }

# sipp_watch CSV PID: waits for PID; kills it when CSV has not changed for
# SIPP_STALL seconds. Returns sipp's status, or 124 when it stalled.
sipp_watch() {
	local csv=$1 pid=$2 sig last now same=0
	last=$(file_sig "$csv")
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(file_sig "$csv")
		if [ "$now" != "$last" ]; then
			last=$now same=0
			continue
		fi
		same=$((same + 1))
		if [ "$same" -ge "$SIPP_STALL" ]; then
			echo "   sipp (pid $pid) stalled: $csv unchanged for ${SIPP_STALL}s; killed" >&2
			kill "$pid" 2>/dev/null || true
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.2
			done
			kill -9 "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			return 124
		fi
	done
	sig=0
	wait "$pid" 2>/dev/null || sig=$?
	return "$sig"
}

# sipp_run CSV OUT DIR ARGS…: sipp ARGS… in DIR, its output to OUT, under
# sipp_watch. ARGS must include -trace_stat -stf CSV.
sipp_run() {
	local csv=$1 out=$2 dir=$3
	shift 3
	(cd "$dir" && exec sipp "$@" >"$out" 2>&1) &
	local pid=$!
	BG_PIDS+=("$pid")
	sipp_watch "$csv" "$pid"
}

# The blocks a run without RTP_PORTS picks from: 2,500 port pairs each,
# enough for 1,000 bridged calls (2,000 legs).
RTP_PORT_BLOCKS=${RTP_PORT_BLOCKS:-"40000-44999 45000-49999 50000-54999 55000-59999 61000-65499"}
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
