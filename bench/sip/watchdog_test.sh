#!/usr/bin/env bash
# Checks of watchdog.sh, with a fake sipp on PATH (no network, a few
# seconds): a sipp whose stats file stops changing is killed and reported
# stalled (124), so is one whose stats keep changing but whose call
# counters freeze (unless its calls are held that long: sweep (b)), one
# that progresses is left alone, a stalled row is marked in the table, two
# runs cannot hold overlapping RTP port ranges, and a run killed mid-way
# leaves no process behind.
# Run: bash bench/sip/watchdog_test.sh (bench's TestHarnessWatchdog does).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/switchboard-watchdog-test.XXXXXX)
HOLDER=""
trap '[ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true; rm -rf "$T"' EXIT
fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# The fake sipp: a stats row (sipp's counter columns) every 0.3 s to its
# -stf file, 5 rows, each with one more call created and ended, then exit
# 0. FAKE_SIPP=stall hangs (exec sleep, same pid) after 3 rows;
# FAKE_SIPP=silent hangs before writing anything; FAKE_SIPP=frozen keeps
# writing rows whose counters never move, one call in progress (one call
# never ends); FAKE_SIPP=hold holds its call FAKE_HOLD seconds (rows, the
# counters still) and then ends it; FAKE_SIPP=long progresses for 100 s
# and leaves behind a process of its own that outlives it (an orphan).
# `-sn uas -bg` forks a sleeping uas and says its PID, as sipp does. Each
# one's PID goes to $FAKE_PIDS.
mkdir "$T/bin"
cat >"$T/bin/sipp" <<'EOF2'
#!/usr/bin/env bash
stf="" bg="" uas=""
while [ $# -gt 0 ]; do
	case $1 in
	-stf) stf=$2 ;;
	-bg) bg=1 ;;
	uas) uas=1 ;;
	esac
	shift
done
if [ -n "$uas" ] && [ -n "$bg" ]; then
	(exec -a fake-sipp-uas sleep 1000) &
	echo $! >>"$FAKE_PIDS"
	echo "Background mode - PID=[$!]"
	exit 99
fi
echo $$ >>"$FAKE_PIDS"
[ "${FAKE_SIPP:-}" = silent ] && exec sleep 1000
row() { echo "t$1;t$1;$2;$3;$4;0;" >>"$stf"; } # time; TotalCallCreated; CurrentCall; SuccessfulCall(C); FailedCall(C)
echo "StartTime;CurrentTime;TotalCallCreated;CurrentCall;SuccessfulCall(C);FailedCall(C);" >"$stf"
case ${FAKE_SIPP:-} in
frozen)
	for i in $(seq 1000); do row "$i" 1 1 0; sleep 0.3; done
	exit 0 ;;
hold)
	row 0 1 1 0
	end=$((SECONDS + FAKE_HOLD))
	while [ "$SECONDS" -lt "$end" ]; do row "$SECONDS" 1 1 0; sleep 0.3; done
	row end 1 0 1
	exit 0 ;;
long)
	(exec -a fake-sipp-orphan sleep 1000) &
	echo $! >>"$FAKE_PIDS"
	for i in $(seq 330); do row "$i" "$i" 1 $((i - 1)); sleep 0.3; done
	exit 0 ;;
esac
for i in 1 2 3 4 5; do
	row "$i" "$i" 1 $((i - 1))
	[ "${FAKE_SIPP:-}" = stall ] && [ "$i" = 3 ] && exec sleep 1000
	sleep 0.3
done
EOF2
chmod +x "$T/bin/sipp"
export PATH="$T/bin:$PATH"
export FAKE_PIDS=$T/pids

BG_PIDS=()
# shellcheck source=watchdog.sh
source "$HERE/watchdog.sh"
SIPP_STALL=2

# A sipp that progresses to its end: its own status, nothing killed.
rc=0
FAKE_SIPP=ok sipp_run "$T/ok.csv" "$T/ok.out" "$T" -trace_stat -stf "$T/ok.csv" || rc=$?
[ "$rc" = 0 ] || fail "a progressing sipp: rc $rc, want 0"
[ "$(wc -l <"$T/ok.csv")" = 6 ] || fail "a progressing sipp was cut short: $(wc -l <"$T/ok.csv") lines"

# A sipp whose stats stop: killed within SIPP_STALL s (and a little), 124.
for mode in stall silent; do
	rc=0
	start=$(date +%s)
	FAKE_SIPP=$mode sipp_run "$T/$mode.csv" "$T/$mode.out" "$T" -trace_stat -stf "$T/$mode.csv" 2>"$T/$mode.err" || rc=$?
	took=$(($(date +%s) - start))
	[ "$rc" = 124 ] || fail "a $mode sipp: rc $rc, want 124 (stalled)"
	[ "$took" -le $((SIPP_STALL + 10)) ] || fail "a $mode sipp was killed after ${took}s, want about ${SIPP_STALL}s"
	grep -q "stalled" "$T/$mode.err" || fail "a $mode sipp: no 'stalled' line on stderr"
	pid=${BG_PIDS[-1]}
	! kill -0 "$pid" 2>/dev/null || fail "a $mode sipp (pid $pid) still runs after the watchdog"
done

# A sipp that keeps writing its stats but whose call counters stand still
# with a call in progress (one call never ends): killed after
# SIPP_CALL_STALL s, 124, and the line says so.
SIPP_CALL_STALL=2
rc=0
start=$(date +%s)
FAKE_SIPP=frozen sipp_run "$T/frozen.csv" "$T/frozen.out" "$T" -trace_stat -stf "$T/frozen.csv" 2>"$T/frozen.err" || rc=$?
took=$(($(date +%s) - start))
[ "$rc" = 124 ] || fail "a sipp whose counters froze: rc $rc, want 124 (stalled)"
[ "$took" -le $((SIPP_CALL_STALL + 10)) ] || fail "a sipp whose counters froze was killed after ${took}s, want about ${SIPP_CALL_STALL}s"
grep -q "have not moved for ${SIPP_CALL_STALL}s with 1 call(s) in progress" "$T/frozen.err" || fail "a sipp whose counters froze: no line saying so: $(cat "$T/frozen.err")"
pid=${BG_PIDS[-1]}
! kill -0 "$pid" 2>/dev/null || fail "a sipp whose counters froze (pid $pid) still runs after the watchdog"

# Sweep (b)'s rule: a call held HOLD s leaves the counters still that long,
# and is left alone when the watch is given its HOLD; without it, the
# same sipp is killed.
# (SIPP_CALL_STALL 4: the fake's start on a loaded machine takes a while.)
SIPP_CALL_STALL=4
rc=0
FAKE_SIPP=hold FAKE_HOLD=4 SIPP_HOLD=4 sipp_run "$T/hold.csv" "$T/hold.out" "$T" -trace_stat -stf "$T/hold.csv" 2>"$T/hold.err" || rc=$?
[ "$rc" = 0 ] || fail "a sipp holding its call for its HOLD: rc $rc, want 0 (left alone): $(cat "$T/hold.err")"
rc=0
FAKE_SIPP=hold FAKE_HOLD=12 sipp_run "$T/hold0.csv" "$T/hold0.out" "$T" -trace_stat -stf "$T/hold0.csv" 2>"$T/hold0.err" || rc=$?
[ "$rc" = 124 ] || fail "a sipp holding its call 12 s, watched with HOLD 0: rc $rc, want 124"
# The same with the real sipp, when installed (its stats' real columns): a
# peer that answers INVITE with 100 Trying and never with a final answer
# leaves uac_load.xml's call waiting for its 200 (no timeout there) while
# sipp keeps writing its stats: killed after SIPP_CALL_STALL s.
REAL_SIPP=""
for d in $(tr ':' ' ' <<<"${PATH#"$T/bin:"}"); do
	[ -x "$d/sipp" ] && REAL_SIPP=$d/sipp && break
done
if [ -z "$REAL_SIPP" ]; then
	echo "watchdog_test: no real sipp on PATH; its check is skipped"
else
	python3 - "$T/trying.port" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    d, a = s.recvfrom(65535)
    t = d.decode(errors="replace")
    if t.startswith("INVITE"):
        keep = [l for l in t.split("\r\n") if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
        s.sendto(("SIP/2.0 100 Trying\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), a)
PY
	TRYING=$!
	for _ in $(seq 100); do
		[ -s "$T/trying.port" ] && break
		sleep 0.1
	done
	rc=0
	start=$(date +%s)
	PATH=${PATH#"$T/bin:"} SIPP_STALL=20 sipp_run "$T/real.csv" "$T/real.out" "$T" "127.0.0.1:$(cat "$T/trying.port")" -sf "$HERE/../../testdata/sipp/uac_load.xml" \
		-s 1000 -i 127.0.0.1 -nostdin -timeout 120s -trace_stat -stf "$T/real.csv" -fd 1 -r 1 -m 1 2>"$T/real.err" || rc=$?
	echo "watchdog_test: the real sipp was stopped after $(($(date +%s) - start))s"
	kill "$TRYING" 2>/dev/null || true
	wait "$TRYING" 2>/dev/null || true
	[ "$rc" = 124 ] || fail "a real sipp whose call never got its 200: rc $rc, want 124 (stalled): $(tail -3 "$T/real.out")"
	grep -q "have not moved for ${SIPP_CALL_STALL}s with 1 call(s) in progress" "$T/real.err" || fail "a real sipp whose call never got its 200: no line saying so: $(cat "$T/real.err")"
fi
SIPP_CALL_STALL=40

# The table marks a stalled row and never counts it clean.
# shellcheck source=compare.sh
source "$HERE/compare.sh"
RESULTS=$T/results.txt
{
	echo "a uas 2000 1 0.5 10000 0 0 1850 0 0.7"
	echo "a switchboard 2000 1 0.5 4000 0 0 800 3 3.2 stalled"
	echo "o auto 1500 1 0.5 2250 11250 0 0 9 1 9000 9.9 0 2250 1800 5 stalled"
} >"$RESULTS"
out=$(table)
grep -q "switchboard .*STALLED" <<<"$out" || fail "table: the stalled run (a) is not marked:
$out"
grep -q "auto .*STALLED" <<<"$out" || fail "table: the stalled run (o) is not marked:
$out"
grep -q "clean in every run .*switchboard 0/s" <<<"$out" || fail "table: a stalled run counted clean:
$out"

# RTP port ranges: a run holds its range while it lives; another run that
# asks for an overlapping range is refused with a clear message; one that
# asks for none gets a free block; a dead run's range is free again.
export RTP_LOCK_DIR=$T
(RTP_PORTS=52000-55999 && rtp_ports_claim && echo "$RTP_PORTS" >"$T/holder" && exec sleep 60) &
HOLDER=$!
for _ in $(seq 300); do
	[ -s "$T/holder" ] && break
	sleep 0.1
done
[ "$(cat "$T/holder" 2>/dev/null)" = 52000-55999 ] || fail "the first run did not claim 52000-55999"
if msg=$(RTP_PORTS=54000-57999 && rtp_ports_claim 2>&1); then
	fail "an overlapping RTP_PORTS was taken: $msg"
fi
grep -q "overlaps 52000-55999" <<<"$msg" || fail "the refusal does not name the range in use: $msg"
got=$(RTP_PORTS="" RTP_PORT_BLOCKS="50000-53999 56000-59999" bash -c "source '$HERE/watchdog.sh'; rtp_ports_claim; echo \$RTP_PORTS")
[ "$got" = 56000-59999 ] || fail "a run without RTP_PORTS got $got, want the free block 56000-59999"
got=$(RTP_PORTS=40000-43999 bash -c "source '$HERE/watchdog.sh'; rtp_ports_claim; echo \$RTP_PORTS")
[ "$got" = 40000-43999 ] || fail "a range apart was refused: $got"
if RTP_PORTS=40000 bash -c "source '$HERE/watchdog.sh'; rtp_ports_claim" 2>/dev/null; then
	fail "a malformed RTP_PORTS was taken"
fi
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
HOLDER=""
got=$(RTP_PORTS=54000-57999 bash -c "source '$HERE/watchdog.sh'; rtp_ports_claim; echo \$RTP_PORTS")
[ "$got" = 54000-57999 ] || fail "once the first run ended, its range was still refused: $got"

# A run killed mid-way leaves nothing running: run.sh baseline (a fake
# uas in the background, daemonised as sipp -bg does, and a fake uac that
# leaves an orphan of its own) gets TERM once both run; once it has exited
# none of them may live.
: >"$FAKE_PIDS"
RTP_LOCK_DIR=$T RTP_PORTS=30000-30099 FAKE_SIPP=long bash "$HERE/run.sh" baseline 10 1000 >"$T/run.out" 2>&1 &
run=$!
for _ in $(seq 600); do
	[ "$(wc -l <"$FAKE_PIDS")" -ge 3 ] && break
	sleep 0.1
done
[ "$(wc -l <"$FAKE_PIDS")" -ge 3 ] || fail "run.sh baseline did not start its fake sipps: $(cat "$T/run.out")"
kill -TERM "$run"
wait "$run" 2>/dev/null || true
# alive PID: it runs (a zombie, ended and waiting to be reaped by
# whoever inherited it, does not).
alive() { [ -r "/proc/$1/stat" ] && ! awk '{exit !($3 == "Z")}' "/proc/$1/stat" 2>/dev/null; }
left=""
for pid in $(cat "$FAKE_PIDS"); do
	! alive "$pid" || left+=" $pid ($(cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' '))"
done
[ -z "$left" ] || fail "a run killed mid-way left processes running:$left
$(cat "$T/run.out")"
for pid in $left; do kill -9 "$pid" 2>/dev/null || true; done

if [ "$fails" -gt 0 ]; then
	echo "watchdog_test: $fails failed" >&2
	exit 1
fi
echo "watchdog_test: ok"
