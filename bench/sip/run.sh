#!/usr/bin/env bash
# SIP load benchmarks for Switchboard: see README.md beside this script.
#
#   bench/sip/run.sh cps [RATE] [CALLS]          call setup rate: answer, 1 s prompt, hang up
#   bench/sip/run.sh baseline [RATE] [CALLS]     the same sipp caller against `sipp -sn uas`
#   bench/sip/run.sh concurrent [CALLS] [HOLD_S] G.711 both ways on CALLS calls, RTP pacing
#   bench/sip/run.sh compare                     side by side, interleaved per rate: sipp -sn uas,
#                                                Switchboard (and diago when DIAGO_CMD is set);
#                                                one table with ratios (see README.md for the knobs)
#   bench/sip/run.sh overload [RATE]             1.5× RATE offered with each shedding mode (SHED_MODES):
#                                                503s, failed calls, retransmissions of the calls taken
#   bench/sip/run.sh bridge                      bridged calls: sipp → Switchboard → sipp carrier, audio
#                                                relayed both ways (bridge.sh has the knobs)
#   bench/sip/run.sh smoke                       a short run of each (well under a minute)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SCEN=$ROOT/testdata/sipp
KEY=bench-admin-key-0123456789abcdef
W=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
SB_PID=""
BG_PIDS=()
# Switchboard's RTP ports, and what the captures take as its traffic:
# RTP_PORTS, or a block no other run of this harness holds
# (rtp_ports_claim, watchdog.sh): runs whose ranges overlap would mix each
# other's streams in their captures, so an overlapping RTP_PORTS is refused.
source "$HERE/watchdog.sh"
# Every process the run starts ends with it, even when it is killed
# (run_guard, run_reap: watchdog.sh).
run_guard
# Thousands of calls need thousands of sockets (switchboard and sipp).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

need() {
	command -v "$1" >/dev/null || {
		echo "run.sh: '$1' is missing; on Debian: sudo apt-get install $2" >&2
		exit 1
	}
}

cleanup() {
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "$SB_PID" ]; then kill "$SB_PID" 2>/dev/null || true; wait "$SB_PID" 2>/dev/null || true; fi
	run_reap
	# PROFILE=1 keeps the profiles beside the binary they were taken of.
	if [ -z "${KEEP:-}" ] && [ -z "${PROFILE:-}" ]; then rm -rf "$W"; else echo "work dir kept: $W" >&2; fi
}
trap cleanup EXIT

# free_port: a port of 127.0.0.1 free for both TCP and UDP (sipp's -p and
# Switchboard's SIP port are UDP: a port only checked for TCP could be a
# UDP socket's, and sipp then failed to start, rc 254).
free_port() {
	python3 -c '
import socket
for _ in range(100):
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break'
}

# free_media_port: an even UDP port below the kernel's ephemeral range
# (32768-60999) and outside every peer's RTP range (Switchboard's
# blocks, 40000-63999), with the next three free too, for sipp's -mp (audio RTP and
# RTCP, video RTP and RTCP): a port from free_port could be the one a peer
# hands to its next call.
free_media_port() {
	python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 32000, 4)
    socks = []
    try:
        for q in range(p, p + 4):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", q))
            socks.append(s)
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
}

# start_switchboard builds and starts the server (SIP and HTTP on free
# ports, 127.0.0.1 trusted, RTP ports $RTP_PORTS) and signs in.
start_switchboard() {
	need go "golang (Go 1.26+)"
	need curl curl
	# SB_BIN runs another build (an older commit, to compare with).
	if [ -n "${SB_BIN:-}" ]; then
		cp "$SB_BIN" "$W/switchboard"
	fi
	[ -x "$W/switchboard" ] || (cd "$ROOT" && go build -o "$W/switchboard" ./cmd/switchboard)
	local extra=()
	local help
	help=$("$W/switchboard" serve --help 2>&1)
	if grep -q -- --media-local-paths <<<"$help"; then
		extra+=(--media-local-paths)
	fi
	# The binary sheds load by default (--shed-latency 20ms); the capacity
	# runs measure the server without it (the retransmission storm past
	# capacity is what they look for) unless SHED=1. The overload sweep
	# sets its own shedding in SB_FLAGS.
	if [ -z "${SB_FLAGS:-}" ] && [ -z "${SHED:-}" ] && grep -q -- --shed-latency <<<"$help"; then
		extra+=(--shed-latency 0)
	fi
	# SB_FLAGS: more flags for this start (the overload sweep's shedding).
	# shellcheck disable=SC2206
	extra+=(${SB_FLAGS:-})
	SB_HELP=$help
	# A port free_port found free can be taken by another process (another
	# engineer's bench, a sipp's) before Switchboard binds it: then it
	# exits at once with "address already in use", and it is started again
	# on other ports, up to 5 times.
	local try up=""
	for try in 1 2 3 4 5; do
		SIP_PORT=$(free_port)
		HTTP_PORT=$(free_port)
		DEBUG_PORT=$(free_port)
		METRICS_PORT=""
		local ports=()
		if grep -q -- --metrics-addr <<<"$help"; then
			METRICS_PORT=$(free_port)
			ports=(--metrics-addr "127.0.0.1:$METRICS_PORT")
		fi
		# The flows play the prompts by path: --media-local-paths turns that on.
		"$W/switchboard" serve --debug-addr "127.0.0.1:$DEBUG_PORT" --http-addr "127.0.0.1:$HTTP_PORT" --data-dir "$W/data-$HTTP_PORT" --admin-key "$KEY" \
			--sip-addr "127.0.0.1:$SIP_PORT" --trust 127.0.0.1 --rtp-ports "$RTP_PORTS" "${ports[@]}" "${extra[@]}" \
			--log-format json --log-level "${LOG_LEVEL:-warn}" >"$W/switchboard.log" 2>&1 &
		SB_PID=$!
		API="http://127.0.0.1:$HTTP_PORT"
		# Up to 30 s: a loaded machine starts slowly.
		for _ in $(seq 300); do
			if curl -fs "$API/healthz" >/dev/null 2>&1; then
				up=1
				break
			fi
			kill -0 "$SB_PID" 2>/dev/null || break
			sleep 0.1
		done
		[ -z "$up" ] || break
		if kill -0 "$SB_PID" 2>/dev/null || ! grep -q "address already in use" "$W/switchboard.log"; then
			break # not the race: reported below
		fi
		wait "$SB_PID" 2>/dev/null || true
		echo "run.sh: a port was taken before switchboard bound it (try $try of 5); starting it on other ports" >&2
	done
	local auth
	auth=$(curl -fs -X PUT "$API/v2/api_auth" -d "{\"data\":{\"api_key\":\"$KEY\"}}") || {
		echo "run.sh: switchboard did not start; its log:" >&2
		tail -20 "$W/switchboard.log" >&2
		exit 1
	}
	TOKEN=$(echo "$auth" | python3 -c 'import json,sys;print(json.load(sys.stdin)["auth_token"])')
	ACCOUNT=$(echo "$auth" | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["account_id"])')
}

# flow NUMBER JSON stores a call flow.
flow() {
	curl -fs -X PUT "$API/v2/accounts/$ACCOUNT/callflows" -H "X-Auth-Token: $TOKEN" \
		-d "{\"data\":{\"name\":\"bench $1\",\"numbers\":[\"$1\"],\"flow\":$2}}" >/dev/null
}

# audio writes the prompts: 1 s and 10 s tones (8 kHz mono WAV) and a
# 10 s raw A-law tone for sipp's rtp_stream.
audio() {
	python3 - "$W" <<'PY'
import math, struct, sys, wave
w = sys.argv[1]
def tone(sec, f):
    return [int(8000 * math.sin(2 * math.pi * f * i / 8000)) for i in range(8000 * sec)]
for name, sec in (("prompt1s.wav", 1), ("prompt10s.wav", 10)):
    with wave.open(f"{w}/{name}", "wb") as o:
        o.setnchannels(1); o.setsampwidth(2); o.setframerate(8000)
        o.writeframes(struct.pack(f"<{8000*sec}h", *tone(sec, 440)))
def alaw(s):
    sign = 0x80 if s >= 0 else 0
    s = min(abs(s), 32635)
    if s >= 256:
        e = int(math.log2(s >> 8)) + 1
        m = (s >> (e + 3)) & 0x0F
    else:
        e, m = 0, s >> 4
    return ((sign | (e << 4) | m) ^ 0x55)
with open(f"{w}/bench.al", "wb") as o:
    o.write(bytes(alaw(v) for v in tone(10, 300)))
PY
}

# sipp_stats CSV START END prints the totals of a sipp -trace_stat file.
sipp_stats() {
	python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
h, v = rows[0], rows[-1]
g = lambda k: v[h.index(k)]
wall = float(sys.argv[3]) - float(sys.argv[2])
ok = int(g("SuccessfulCall(C)"))
print(f"created={g('OutgoingCall(C)')} ok={ok} failed={g('FailedCall(C)')} "
      f"retrans={g('Retransmissions(C)')} created/s={float(g('CallRate(C)')):.1f} "
      f"completed/s={ok/wall:.1f} wall={wall:.1f}s rtt(INVITE-200)={g('ResponseTime1(C)')}")
PY
}

# run_sipp NAME TARGET ARGS… runs sipp to its end and prints its totals.
run_sipp() {
	local name=$1 target=$2
	shift 2
	local start end rc=0
	start=$(date +%s.%N)
	sipp_run "$W/$name.csv" "$W/$name.out" "$W" "$target" -i 127.0.0.1 -p "$(free_port)" -nostdin -timeout 300s \
		-trace_stat -stf "$W/$name.csv" -fd 1 -default_behaviors all,-abortunexp "$@" || rc=$?
	end=$(date +%s.%N)
	[ "$rc" != 124 ] || echo "$name: STALLED (the watchdog's line above says how; sipp was killed); the figures so far:"
	echo "$name: sipp rc=$rc $(sipp_stats "$W/$name.csv" "$start" "$end")"
}

cps() {
	local rate=${1:-1000} calls=${2:-$((${1:-1000} * 10))}
	need sipp sip-tester
	start_switchboard
	audio
	flow 1000 "{\"module\":\"play\",\"data\":{\"id\":\"$W/prompt1s.wav\",\"answer\":true}}"
	echo "== call setup rate: $calls calls at $rate/s; each: INVITE, 200, ACK, 1 s prompt (50 RTP packets), BYE from Switchboard"
	local cpu0 cs0
	cpu0=$(cpu_split "$SB_PID")
	cs0=$(ctx_switches "$SB_PID")
	profile_begin "cps-$rate" $((calls / rate)) "$W/cps.csv"
	run_sipp cps "127.0.0.1:$SIP_PORT" -sf "$SCEN/uac_load.xml" -s 1000 -mp "$(free_media_port)" \
		-r "$rate" -m "$calls" -l "$((rate * 4 + 100))"
	profile_end "cps-$rate"
	echo "switchboard: $(ps -o rss=,cputime= -p "$SB_PID" | awk '{printf "RSS %d MB, CPU time %s", $1/1024, $2}')"
	local ok
	ok=$(sipp_ok "$W/cps.csv")
	echo "switchboard over the run: $(cpu_per_call "$cpu0" "$(cpu_split "$SB_PID")" "$ok"); $(echo "$cs0 $(ctx_switches "$SB_PID") $ok" | awk '{printf "%d context switches (%.1f a call)", $2 - $1, $3 ? ($2 - $1) / $3 : 0}')"
}

baseline() {
	local rate=${1:-1000} calls=${2:-$((${1:-1000} * 10))}
	need sipp sip-tester
	local port
	port=$(free_port)
	# -bg forks and the parent exits 99: read the child's PID.
	(cd "$W" && sipp -sn uas -i 127.0.0.1 -p "$port" -nostdin -bg >"$W/uas.out" 2>&1) || true
	local uas
	uas=$(grep -o 'PID=\[[0-9]*' "$W/uas.out" | tr -dc 0-9)
	BG_PIDS+=("$uas")
	sleep 0.3
	echo "== baseline: sipp -sn uac → sipp -sn uas, $calls calls at $rate/s"
	run_sipp baseline "127.0.0.1:$port" -sn uac -r "$rate" -m "$calls" -l "$((rate * 4 + 100))"
}

# pacing PCAP prints the deviation of Switchboard's RTP from 20 ms: per
# stream (source port), |Δt − 20 ms| between consecutive sequence numbers.
pacing() {
	python3 - "$1" <<'PY'
import struct, sys
from collections import defaultdict
f = open(sys.argv[1], "rb")
magic = struct.unpack("<I", f.read(4))[0]
nano = magic == 0xA1B23C4D
f.read(20)
streams = defaultdict(list)
while True:
    h = f.read(16)
    if len(h) < 16:
        break
    sec, frac, incl, orig = struct.unpack("<IIII", h)
    d = f.read(incl)
    t = sec + frac / (1e9 if nano else 1e6)
    if len(d) < 14 + 20 + 8 + 12 or d[12:14] != b"\x08\x00":
        continue
    ihl = (d[14] & 0x0F) * 4
    udp = 14 + ihl
    sport, dport = struct.unpack(">HH", d[udp:udp + 4])
    rtp = udp + 8
    if d[rtp] >> 6 != 2 or 200 <= d[rtp + 1] <= 204:  # not RTP, or RTCP
        continue
    seq = struct.unpack(">H", d[rtp + 2:rtp + 4])[0]
    streams[(sport, dport)].append((t, seq))
devs, lost, n = [], 0, 0
for pk in streams.values():
    n += len(pk)
    for (t1, s1), (t2, s2) in zip(pk, pk[1:]):
        step = (s2 - s1) & 0xFFFF
        if step == 1:
            devs.append(abs((t2 - t1) - 0.020) * 1000)
        elif 1 < step < 1000:
            lost += step - 1
devs.sort()
q = lambda p: devs[min(len(devs) - 1, int(p * len(devs)))] if devs else float("nan")
span = max((pk[-1][0] - pk[0][0] for pk in streams.values()), default=0)
busy = sum(1 for pk in streams.values() if len(pk) >= 40)
print(f"RTP streams={len(streams)} (≥40 packets in the window: {busy}) packets={n} window={span:.1f}s "
      f"rate={n/max(span,1e-9):.0f} packets/s gaps(lost seq)={lost}")
print(f"pacing deviation |Δt-20ms|: p50={q(0.5):.2f}ms p90={q(0.9):.2f}ms p99={q(0.99):.2f}ms p99.9={q(0.999):.2f}ms max={devs[-1] if devs else float('nan'):.2f}ms")
PY
}

concurrent() {
	local calls=${1:-1500} hold=${2:-40}
	need sipp sip-tester
	need dumpcap "tshark (for dumpcap; say yes to non-root capture or run as root)"
	start_switchboard
	audio
	flow 1001 "{\"module\":\"play\",\"data\":{\"id\":\"$W/prompt10s.wav\",\"answer\":true,\"endless_playback\":true}}"
	local rate=$((calls / 10 > 50 ? calls / 10 : 50))
	echo "== concurrency: $calls calls (ramp at $rate/s), each $hold s of G.711 both ways (sipp rtp_stream in, looped prompt out)"
	(cd "$W" && exec sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/uac_rtp_hold.xml" -s 1001 -i 127.0.0.1 -p "$(free_port)" \
		-mp "${MEDIA_PORT:-21000}" -r "$rate" -m "$calls" -l "$calls" -d "$((hold * 1000))" -nostdin -timeout 600s \
		-trace_stat -stf "$W/conc.csv" -fd 1 -default_behaviors all,-abortunexp >"$W/conc.out" 2>&1) &
	local sipp_pid=$!
	BG_PIDS+=("$sipp_pid")
	local start
	start=$(date +%s.%N)
	local ramp=$((calls / rate + 2))
	sleep "$ramp"
	local window=$((hold - ramp - 4 > 10 ? 10 : hold - ramp - 4))
	if [ "$window" -lt 3 ]; then
		echo "run.sh: hold time too short for the ramp; give HOLD_S > $((ramp + 7))" >&2
		exit 1
	fi
	echo "Switchboard RTP+RTCP sockets open: $(ss -uan "sport >= :${RTP_PORTS%-*} and sport <= :${RTP_PORTS#*-}" | tail -n +2 | wc -l)"
	echo "capturing Switchboard's RTP for ${window}s (dumpcap -i lo -B 128 -s 64, source ports $RTP_PORTS)"
	dumpcap -q -P -i lo -B 128 -s 64 -f "udp and src portrange $RTP_PORTS" -a "duration:$window" -w "$W/rtp.pcap" 2>"$W/dumpcap.err" ||
		{ cat "$W/dumpcap.err" >&2; exit 1; }
	echo "switchboard: $(ps -o rss=,pcpu= -p "$SB_PID" | awk '{printf "RSS %d MB, %s%% CPU (average since start)", $1/1024, $2}')"
	pacing "$W/rtp.pcap"
	sipp_watch "$W/conc.csv" "$sipp_pid" "$hold" || { [ $? != 124 ] || echo "conc: STALLED (the watchdog's line above says how; sipp was killed)"; }
	local end
	end=$(date +%s.%N)
	echo "conc: $(sipp_stats "$W/conc.csv" "$start" "$end")"
}

# smoke is what CI runs (./dev.sh test): the compare harness end to end
# on tiny figures, well under a minute.
smoke() {
	RATES=${RATES:-100} SECONDS_PER_RATE=${SECONDS_PER_RATE:-1} REPEAT=1 CONC=${CONC:-50} HOLD=${HOLD:-12} compare
	bridge_smoke
}

source "$HERE/compare.sh"
source "$HERE/bridge.sh"

# rtp_need CMD ARGS…: warns when RTP_PORTS is too small for the run's
# calls (rtp_ports_check): setup runs hold a pair per call for about a
# second and the pool's reuse hold, sweep (b) one per held call, bridged
# calls two.
rtp_need() {
	local cmd=$1 need=0 what r
	shift
	case $cmd in
	cps) need=$(rtp_pairs_setup "${1:-1000}") what="$cmd at ${1:-1000} calls/s" ;;
	concurrent) need=$((${1:-1500} + 128)) what="${1:-1500} concurrent calls" ;;
	overload)
		need=$(rtp_pairs_setup "$(echo "${1:-${OVERLOAD_RATES:-1500}} ${OVERLOAD_FACTOR:-1.5}" | awk '{printf "%d", $1 * $2}')")
		what="overload offering ${OVERLOAD_FACTOR:-1.5} × ${1:-${OVERLOAD_RATES:-1500}} calls/s"
		;;
	compare)
		for r in ${RATES:-500 1000 1500 2000 2500}; do
			[ "$(rtp_pairs_setup "$r")" -le "$need" ] || need=$(rtp_pairs_setup "$r")
		done
		for r in ${CONC:-1000 1500}; do
			[ $((r + 128)) -le "$need" ] || need=$((r + 128))
		done
		what="compare (RATES=\"${RATES:-500 1000 1500 2000 2500}\", CONC=\"${CONC:-1000 1500}\")"
		;;
	bridge)
		for r in ${BRIDGE_CONC:-500 750 1000}; do
			[ $((2 * r + 128)) -le "$need" ] || need=$((2 * r + 128))
		done
		what="bridge (BRIDGE_CONC=\"${BRIDGE_CONC:-500 750 1000}\", 2 legs a call)"
		;;
	*) return 0 ;;
	esac
	rtp_ports_check "$need" "$what"
}

need python3 python3
case "${1:-}" in
cps | baseline | concurrent | smoke | compare | overload | bridge)
	need flock util-linux
	rtp_ports_claim
	echo "RTP ports $RTP_PORTS (held for this run)"
	cmd=$1
	shift
	rtp_need "$cmd" "$@"
	"$cmd" "$@"
	;;
*)
	sed -n '2,14p' "$0" >&2
	exit 2
	;;
esac
