#!/usr/bin/env bash
# Checks of watchdog.sh, with a fake sipp on PATH (no network, a few
# seconds): a sipp whose stats file stops changing is killed and reported
# stalled (124), one that progresses is left alone, a stalled row is marked
# in the table, and two runs cannot hold overlapping RTP port ranges.
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

# The fake sipp: a stats row every 0.3 s to its -stf file, 5 rows, then
# exit 0; FAKE_SIPP=stall hangs (exec sleep, same pid) after 3 rows;
# FAKE_SIPP=silent hangs before writing anything.
mkdir "$T/bin"
cat >"$T/bin/sipp" <<'EOF'
#!/usr/bin/env bash
stf=""
while [ $# -gt 0 ]; do
	[ "$1" = -stf ] && stf=$2
	shift
done
[ "${FAKE_SIPP:-}" = silent ] && exec sleep 1000
echo "StartTime;SuccessfulCall(C)" >"$stf"
for i in 1 2 3 4 5; do
	echo "t$i;$i" >>"$stf"
	[ "${FAKE_SIPP:-}" = stall ] && [ "$i" = 3 ] && exec sleep 1000
	sleep 0.3
done
EOF
chmod +x "$T/bin/sipp"
export PATH="$T/bin:$PATH"

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
	[ "$took" -le $((SIPP_STALL + 5)) ] || fail "a $mode sipp was killed after ${took}s, want about ${SIPP_STALL}s"
	grep -q "stalled" "$T/$mode.err" || fail "a $mode sipp: no 'stalled' line on stderr"
	pid=${BG_PIDS[-1]}
	! kill -0 "$pid" 2>/dev/null || fail "a $mode sipp (pid $pid) still runs after the watchdog"
done

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
for _ in $(seq 50); do
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

if [ "$fails" -gt 0 ]; then
	echo "watchdog_test: $fails failed" >&2
	exit 1
fi
echo "watchdog_test: ok"
