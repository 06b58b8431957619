#!/usr/bin/env bash
# Soak: Switchboard under mixed load at about half of this machine's
# capacity for SOAK_DURATION (30m by default; ./dev.sh test runs 2m), with
# RSS, goroutines, descriptors and call outcomes sampled every 10 s. The
# flows play prompts by path (--media-local-paths).
#
#   short calls   sipp uac_load.xml → a 1 s prompt, BYE from Switchboard
#   long calls    sipp uac_rtp_hold.xml → G.711 both ways for SOAK_HOLD_S s
#   Pivot calls   sipp uac_load.xml → pivot to customer.py (fast, slow or
#                 garbage TwiML), and to a customer that is down; both have
#                 a "_" child that apologises, so every call is answered
#   API writes    a call flow created and deleted, SOAK_API_RATE a second
#
# It fails on a call that should have succeeded and did not (sipp's failed
# calls), an API write refused, goroutines or descriptors not back to the
# start once the load ends, RSS still growing in the last third of the run,
# or a call in the log without an end or a cause. KEEP=1 keeps the work
# dir (samples.tsv, switchboard.log, sipp's screens and CSV).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SCEN=$ROOT/testdata/sipp
KEY=soak-admin-key-0123456789abcdef
DURATION=${SOAK_DURATION:-30m}
SHORT_RATE=${SOAK_SHORT_RATE:-4}    # short calls a second
LONG_EVERY_MS=${SOAK_LONG_EVERY_MS:-2000}
HOLD_S=${SOAK_HOLD_S:-20}
PIVOT_RATE=${SOAK_PIVOT_RATE:-2}
DOWN_EVERY_MS=${SOAK_DOWN_EVERY_MS:-5000}
API_RATE=${SOAK_API_RATE:-5}
W=$(mktemp -d /tmp/switchboard-soak.XXXXXX)
SB_PID=""
BG=()
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

for tool in go sipp curl python3 sox; do
	command -v "$tool" >/dev/null || {
		echo "soak: '$tool' is missing (Debian: golang, sip-tester, curl, python3, sox)" >&2
		exit 1
	}
done

cleanup() {
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "$SB_PID" ]; then kill "$SB_PID" 2>/dev/null || true; wait "$SB_PID" 2>/dev/null || true; fi
	if [ -z "${KEEP:-}" ]; then rm -rf "$W"; else echo "soak: work dir kept: $W" >&2; fi
}
trap cleanup EXIT

seconds() { # 30m, 120s, 2h or a plain number of seconds
	case "$1" in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
SECS=$(seconds "$DURATION")
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

(cd "$ROOT" && go build -o "$W/switchboard" ./cmd/switchboard)
sox -n -r 8000 -c 1 -b 16 "$W/prompt1s.wav" synth 1 sine 440
sox -n -r 8000 -c 1 -b 16 "$W/prompt10s.wav" synth 10 sine 440
sox -n -r 8000 -c 1 -t al "$W/bench.al" synth 10 sine 300

SIP_PORT=$(free_port)
HTTP_PORT=$(free_port)
DEBUG_PORT=$(free_port)
"$W/switchboard" serve --http-addr "127.0.0.1:$HTTP_PORT" --data-dir "$W/data" --admin-key "$KEY" \
	--sip-addr "127.0.0.1:$SIP_PORT" --trust 127.0.0.1 --rtp-ports 40000-59999 \
	--debug-addr "127.0.0.1:$DEBUG_PORT" --media-local-paths \
	--log-format json --log-level warn >"$W/switchboard.log" 2>&1 &
SB_PID=$!
API="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 200); do
	curl -fs "$API/healthz" >/dev/null 2>&1 && break
	sleep 0.1 # polling the server's start, not synchronising a test
done
auth=$(curl -fs -X PUT "$API/v2/api_auth" -d "{\"data\":{\"api_key\":\"$KEY\"}}")
TOKEN=$(echo "$auth" | python3 -c 'import json,sys;print(json.load(sys.stdin)["auth_token"])')
ACCOUNT=$(echo "$auth" | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["account_id"])')
H=(-H "X-Auth-Token: $TOKEN")

flow() {
	curl -fs -X PUT "$API/v2/accounts/$ACCOUNT/callflows" "${H[@]}" \
		-d "{\"data\":{\"name\":\"soak $1\",\"numbers\":[\"$1\"],\"flow\":$2}}" >/dev/null
}
"$HERE/customer.py" >"$W/customer.port" &
BG+=($!)
for _ in $(seq 100); do
	[ -s "$W/customer.port" ] && break
	sleep 0.1 # polling the customer server's start
done
CUSTOMER="http://127.0.0.1:$(cat "$W/customer.port")"
DOWN="http://127.0.0.1:$(free_port)/down" # nothing listens there

sorry='{"_":{"module":"tts","data":{"text":"Sorry, something went wrong.","answer":true}}}'
flow 2001 "{\"module\":\"play\",\"data\":{\"id\":\"$W/prompt1s.wav\",\"answer\":true}}"
flow 2002 "{\"module\":\"play\",\"data\":{\"id\":\"$W/prompt10s.wav\",\"answer\":true,\"endless_playback\":true}}"
flow 3001 "{\"module\":\"pivot\",\"data\":{\"voice_url\":\"$CUSTOMER/twiml\",\"req_format\":\"twiml\",\"method\":\"POST\"},\"children\":$sorry}"
flow 3002 "{\"module\":\"pivot\",\"data\":{\"voice_url\":\"$DOWN\",\"req_format\":\"twiml\"},\"children\":$sorry}"

# sample prints one line: seconds, RSS kB, goroutines, descriptors, and
# sipp's successful/failed calls of each stream so far.
sipp_totals() { # CSV → "ok failed"
	[ -s "$1" ] || { echo "0 0"; return; }
	awk -F';' 'NR==1{for(i=1;i<=NF;i++){if($i=="SuccessfulCall(C)")o=i;if($i=="FailedCall(C)")f=i}} END{print $o+0, $f+0}' "$1"
}
sample() {
	local rss gor fds
	rss=$(awk '/^VmRSS/{print $2}' "/proc/$SB_PID/status")
	gor=$(curl -fs "http://127.0.0.1:$DEBUG_PORT/debug/pprof/goroutine?debug=1" | awk 'NR==1{print $NF}')
	fds=$(find "/proc/$SB_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	printf '%s\t%s\t%s\t%s' "$1" "$rss" "$gor" "$fds"
	for s in short long pivot down; do
		printf '\t%s' "$(sipp_totals "$W/$s.csv" | tr ' ' /)"
	done
	printf '\n'
}

# sipp_run NAME SCENARIO NUMBER CALLS RATE PERIOD_MS [ARGS…] places CALLS
# calls at RATE per PERIOD_MS in the background.
sipp_run() {
	local name=$1 scen=$2 number=$3 calls=$4 rate=$5 period=$6
	shift 6
	(cd "$W" && exec sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/$scen" -s "$number" -i 127.0.0.1 -p "$(free_port)" \
		-m "$calls" -r "$rate" -rp "$period" -l 1000 -nostdin -timeout "$((SECS + 300))s" \
		-trace_stat -fd 5 -stf "$W/$name.csv" -default_behaviors all,-abortunexp "$@" >"$W/$name.out" 2>&1) &
	SIPP+=($!)
	BG+=($!)
}

printf 't_s\trss_kb\tgoroutines\tfds\tshort_ok/failed\tlong_ok/failed\tpivot_ok/failed\tdown_ok/failed\n' | tee "$W/samples.tsv"
sample 0 | tee -a "$W/samples.tsv"
read -r _ BASE_RSS BASE_GOR BASE_FDS _ < <(tail -1 "$W/samples.tsv" | tr '\t' ' ')
echo "soak: $DURATION of mixed load: short $SHORT_RATE/s, long 1 per ${LONG_EVERY_MS} ms × ${HOLD_S} s, pivot $PIVOT_RATE/s, pivot-down 1 per ${DOWN_EVERY_MS} ms, API writes $API_RATE/s"

SIPP=()
sipp_run short uac_load.xml 2001 "$((SHORT_RATE * SECS))" "$SHORT_RATE" 1000
sipp_run long uac_rtp_hold.xml 2002 "$((SECS * 1000 / LONG_EVERY_MS))" 1 "$LONG_EVERY_MS" -d "$((HOLD_S * 1000))" \
	-mp "$(free_port)"
sipp_run pivot uac_load.xml 3001 "$((PIVOT_RATE * SECS))" "$PIVOT_RATE" 1000
sipp_run down uac_load.xml 3002 "$((SECS * 1000 / DOWN_EVERY_MS))" 1 "$DOWN_EVERY_MS"

# API writes: a call flow created and deleted, API_RATE times a second.
PAUSE=$(awk -v r="$API_RATE" 'BEGIN{printf "%.3f", 1/r}')
(
	fail=0 n=0
	end=$((SECONDS + SECS))
	while [ "$SECONDS" -lt "$end" ]; do
		n=$((n + 1))
		id=$(curl -fs -X PUT "$API/v2/accounts/$ACCOUNT/callflows" "${H[@]}" \
			-d "{\"data\":{\"name\":\"soak api $n\",\"numbers\":[\"9$n\"],\"flow\":{\"module\":\"tts\",\"data\":{\"text\":\"n $n\"}}}}" |
			awk -F'"id":"' 'NR==1{split($2,a,"\""); print a[1]}') || true
		[ -n "$id" ] || { fail=$((fail + 1)); continue; }
		curl -fs -X DELETE "$API/v2/accounts/$ACCOUNT/callflows/$id" "${H[@]}" >/dev/null || fail=$((fail + 1))
		sleep "$PAUSE" # pacing the writes
	done
	echo "$n $fail" >"$W/api.result"
) &
API_PID=$!
BG+=($API_PID)

t=0
while [ "$t" -lt "$SECS" ]; do
	sleep 10 # the sampling period
	t=$((t + 10))
	sample "$t" | tee -a "$W/samples.tsv"
done
wait "$API_PID" || true
rc=0
for p in "${SIPP[@]}"; do wait "$p" || rc=1; done
# Let the last calls end and the server settle, then sample once more.
for _ in $(seq 60); do
	n=$(curl -fs "$API/v2/accounts/$ACCOUNT/calls?page_size=1000" "${H[@]}" |
		python3 -c 'import json,sys;print(sum(1 for c in json.load(sys.stdin)["data"] if c.get("status")=="in_progress"))')
	[ "$n" -eq 0 ] && break
	sleep 1 # polling the calls' end
done
sleep 2 # let goroutines of the last calls return before the final sample
sample end | tee -a "$W/samples.tsv"

python3 - "$W" "$BASE_GOR" "$BASE_FDS" "$rc" <<'PY'
import json, sys, urllib.request
w, base_gor, base_fds, sipp_rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [l.rstrip("\n").split("\t") for l in open(f"{w}/samples.tsv")][1:]
load = [r for r in rows if r[0] != "end"]
final = rows[-1]
problems = []
names = ["short", "long", "pivot", "down"]
for i, name in enumerate(names):
    ok, failed = map(int, final[4 + i].split("/"))
    print(f"{name}: {ok} calls ok, {failed} failed")
    if failed:
        problems.append(f"{failed} {name} calls failed")
    if ok == 0:
        problems.append(f"no {name} call completed")
if sipp_rc:
    problems.append("a sipp run did not end cleanly")
rss = [int(r[1]) for r in load]
gor = [int(r[2]) for r in load]
third = max(1, len(load) // 3)
mid, last = max(rss[third:2 * third] or rss), max(rss[-third:])
print(f"RSS kB: start {rss[0]}, peak {max(rss)}, middle third max {mid}, last third max {last}, after {final[1]}")
print(f"goroutines: start {base_gor}, peak {max(gor)}, after {final[2]}; descriptors: start {base_fds}, after {final[3]}")
if last > mid * 1.25 + 16384:
    problems.append(f"RSS still growing: {mid} kB in the middle third, {last} kB in the last")
if int(final[2]) > base_gor + 30:
    problems.append(f"goroutines not back: {base_gor} at the start, {final[2]} after")
if int(final[3]) > base_fds + 20:
    problems.append(f"descriptors not back: {base_fds} at the start, {final[3]} after")
n, fail = map(int, open(f"{w}/api.result").read().split())
print(f"API writes: {n} create+delete, {fail} failed")
if fail:
    problems.append(f"{fail} API writes failed")
if problems:
    print("SOAK FAILED: " + "; ".join(problems))
    sys.exit(1)
PY
# Every call in the log has ended, with a cause.
curl -fs "$API/v2/accounts/$ACCOUNT/calls?page_size=1000" "${H[@]}" | python3 -c '
import json, sys, collections
calls = json.load(sys.stdin)["data"]
bad = [c for c in calls if c.get("status") == "in_progress" or not c.get("hangup_cause")]
causes = collections.Counter(c.get("hangup_cause") for c in calls)
print(f"call log: {len(calls)} latest calls, causes {dict(causes)}")
if bad:
    print(f"SOAK FAILED: {len(bad)} calls without an end or a cause, e.g. {bad[0]}")
    sys.exit(1)
'
echo "soak: passed"
