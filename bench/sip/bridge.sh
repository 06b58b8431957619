# shellcheck shell=bash
# Bridged calls (issue 11), sourced by run.sh: `run.sh bridge` and the
# bridged part of `run.sh smoke`.
#
#   sipp caller (testdata/sipp/uac_bridge.xml)
#     → Switchboard: a `resources` flow dials the number out through a carrier
#     → sipp callee (testdata/sipp/uas_bridge.xml), the carrier's gateway
#   Both sipps stream G.711 (rtp_stream, looped) once answered; Switchboard
#   relays each side's audio to the other (transcoding PCMU⇄PCMA when the
#   legs differ). The caller hangs up (BYE); Switchboard ends the callee leg.
#
# Knobs (environment):
#   BRIDGE_SWEEPS="a b"              which sweeps
#   BRIDGE_RATES="100 200 300"       sweep (a): bridged calls/s; each run RATE×SECONDS_PER_RATE
#                                    calls with 1 s of audio both ways, BYE from the caller;
#                                    interleaved with sipp -sn uas and Switchboard's
#                                    answer → 1 s prompt → BYE at the same rate
#   SECONDS_PER_RATE=5
#   BRIDGE_CONC="500 750 1000"       sweep (b): concurrent bridged calls (2 legs each)
#   HOLD=40                          seconds each call of sweep (b) lasts
#   CODECS="PCMU/PCMA PCMA/PCMA"     caller/callee codec pairs (PCMU/PCMA: every packet
#                                    transcoded; PCMA/PCMA: same codec)
#   REPEAT=1                         runs of each rate and size, interleaved
#   PROMPT_REF=1                     sweep (b) also runs `concurrent`-style played-prompt calls
#                                    with as many legs (2×N calls), the per-packet reference;
#                                    0 leaves it out
#   SB_BIN, PROFILE=1, KEEP=1        as for compare (PROFILE keeps a CPU profile of each
#                                    bridged run of sweep (b): $W/bridge-N-PAIR-REP.prof)
#
# Figures: (a) sipp's totals per run and Switchboard's CPU per call; (b) CPU
# per packet (CPU over the capture window / RTP packets in + out from
# /metrics), CPU per bridged call (% of a core), RSS per call, and pacing of
# what Switchboard sends on both legs (dumpcap on lo, the compare harness's
# pacing_nums: |Δt − 20 ms| p50/p99/max per stream, share of streams with
# ≥ 95 % of their packets), plus the same figures for what the sipps send
# into it (the input's own jitter, which a relay passes on).

BRESULTS=""

# codec_pt NAME: the static payload type of a G.711 codec.
codec_pt() { case $1 in PCMU) echo 0 ;; PCMA) echo 8 ;; *)
	echo "bridge.sh: unknown codec $1 (PCMU or PCMA)" >&2
	exit 2
	;; esac }

# bridge_audio writes 10 s of tone as raw G.711 for rtp_stream:
# $W/PCMA/bridge.raw (the harness's A-law file) and $W/PCMU/bridge.raw.
bridge_audio() {
	[ -f "$W/bench.al" ] || audio
	mkdir -p "$W/PCMA" "$W/PCMU"
	cp "$W/bench.al" "$W/PCMA/bridge.raw"
	python3 - "$W/PCMU/bridge.raw" <<'PY'
import math, sys
def ulaw(s):
    sign = 0x80 if s < 0 else 0
    s = min(abs(s), 32635) + 0x84
    e = 7
    while e > 0 and not s & (0x4000 >> (7 - e)):
        e -= 1
    return ~(sign | (e << 4) | ((s >> (e + 3)) & 0x0F)) & 0xFF
with open(sys.argv[1], "wb") as o:
    o.write(bytes(ulaw(int(8000 * math.sin(2 * math.pi * 500 * i / 8000))) for i in range(80000)))
PY
}

# await_udp PORT: wait (up to 10 s) until something listens on UDP PORT.
await_udp() {
	for _ in $(seq 100); do
		[ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	echo "bridge.sh: nothing listens on UDP $1" >&2
	return 1
}

# callee_start CODEC: a sipp callee answering in CODEC, in the background,
# and a carrier (`resources`) whose rule sends 1555, the codec's payload
# type in 2 digits, then 5 digits there. Sets
# CALLEE_PID_<CODEC>.
callee_start() {
	local codec=$1 pt port
	pt=$(codec_pt "$codec")
	port=$(free_port)
	(cd "$W/$codec" && exec sipp -sf "$SCEN/uas_bridge.xml" -i 127.0.0.1 -p "$port" -mp "$(free_media_port)" \
		-key codec_pt "$pt" -key codec "$codec" -rtp_payload "$pt" -nostdin -timeout 900s \
		-trace_stat -stf "$W/callee-$codec.csv" -fd 1 -default_behaviors all,-abortunexp \
		>"$W/callee-$codec.out" 2>&1) &
	local pid=$!
	BG_PIDS+=("$pid")
	printf -v "CALLEE_PID_$codec" %s "$pid"
	await_udp "$port"
	curl -fs -X PUT "$API/v2/accounts/$ACCOUNT/resources" -H "X-Auth-Token: $TOKEN" \
		-d "{\"data\":{\"name\":\"bench callee $codec\",\"weight_cost\":10,\"rules\":[\"^1555$(printf %02d "$pt")\\\\d{5}\$\"],\"gateways\":[{\"server\":\"127.0.0.1\",\"port\":$port}]}}" >/dev/null
}

# callee_stop CODEC prints the callee's totals and stops it.
callee_stop() {
	local var="CALLEE_PID_$1"
	local pid=${!var:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	printf -v "$var" %s ""
}

# bridged_number PAIR: the number that rings PAIR's callee.
bridged_number() { printf '1555%02d00000' "$(codec_pt "${1#*/}")"; }

# bridge_switchboard PAIRS…: a fresh Switchboard with a `resources` flow
# for each callee codec and a callee sipp for each.
bridge_switchboard() {
	start_switchboard
	local p done=" "
	for p in "$@"; do
		local c=${p#*/}
		[[ $done == *" $c "* ]] && continue
		done+="$c "
		callee_start "$c"
		flow "$(bridged_number "$p")" '{"module":"resources","data":{"timeout":20}}'
	done
}

bridge_stop() {
	callee_stop PCMU
	callee_stop PCMA
	if [ -n "$SB_PID" ]; then
		kill "$SB_PID" 2>/dev/null || true
		wait "$SB_PID" 2>/dev/null || true
		SB_PID=""
	fi
}

# caller_args PAIR: sipp arguments of the caller side of PAIR.
caller_args() {
	local c=${1%/*}
	echo -sf "$SCEN/uac_bridge.xml" -s "$(bridged_number "$1")" -key codec_pt "$(codec_pt "$c")" -key codec "$c" -rtp_payload "$(codec_pt "$c")"
}

# bridge_setup_run PAIR RATE REP: one run of sweep (a), bridged.
bridge_setup_run() {
	local pair=$1 rate=$2 rep=$3 calls=$(($2 * ${SECONDS_PER_RATE:-5}))
	local c=${pair%/*} load cpu0 start end rc=0 name="ba-${pair/\//-}-$rate-$rep"
	load=$(loadavg)
	echo "-- (a) bridged $pair at $rate calls/s, $calls calls (1 s of audio both ways, BYE from the caller), run $rep; load average $load"
	cpu0=$(cpu_seconds "$SB_PID")
	start=$(date +%s.%N)
	# shellcheck disable=SC2046
	sipp_run "$W/$name.csv" "$W/$name.out" "$W/$c" "127.0.0.1:$SIP_PORT" $(caller_args "$pair") -i 127.0.0.1 -p "$(free_port)" \
		-mp "$(free_media_port)" -nostdin -timeout 300s -trace_stat -stf "$W/$name.csv" -fd 1 -default_behaviors all,-abortunexp \
		-r "$rate" -m "$calls" -l "$((rate * 4 + 100))" -d 1000 || rc=$?
	end=$(date +%s.%N)
	[ "$rc" != 124 ] || echo "   STALLED: sipp stalled (the watchdog's line above says how) and was killed (rc 124 below)"
	local cpu nums
	cpu=$(echo "$(cpu_seconds "$SB_PID") $cpu0" | awk '{print $1 - $2}')
	nums=$(sipp_nums "$W/$name.csv" "$start" "$end")
	echo "   sipp rc=$rc ok/failed/retrans/completed-per-s/INVITE→200-ms: $nums; switchboard CPU ${cpu}s"
	echo "a bridged:$pair $rate $rep ${load%% *} $nums $cpu" >>"$BRESULTS"
}

# bridge_hold_run PAIR N REP: one run of sweep (b): N bridged calls of HOLD
# seconds on a fresh Switchboard.
bridge_hold_run() {
	local pair=$1 n=$2 rep=$3 hold=${HOLD:-40}
	local c=${pair%/*} name="bb-${pair/\//-}-$n-$rep"
	local rate=$((n / 10 > 50 ? n / 10 : 50))
	if [ "$hold" -lt $((n / rate + 10)) ]; then
		echo "bridge.sh: HOLD too short for the ramp; give HOLD ≥ $((n / rate + 10))" >&2
		exit 1
	fi
	bridge_switchboard "$pair"
	local load rss0
	load=$(loadavg)
	rss0=$(rss_kb "$SB_PID")
	echo "-- (b) bridged $pair, $n concurrent calls ($((2 * n)) legs) of ${hold}s, run $rep; load average $load"
	# shellcheck disable=SC2046
	(cd "$W/$c" && exec sipp "127.0.0.1:$SIP_PORT" $(caller_args "$pair") -i 127.0.0.1 -p "$(free_port)" -mp "$(free_media_port)" \
		-r "$rate" -m "$n" -l "$n" -d "$((hold * 1000))" -nostdin -timeout 600s \
		-trace_stat -stf "$W/$name.csv" -fd 1 -default_behaviors all,-abortunexp >"$W/$name.out" 2>&1) &
	local sipp_pid=$! start
	BG_PIDS+=("$sipp_pid")
	start=$(date +%s.%N)
	# Every call is up once Switchboard has taken N ACKs from the caller;
	# the windows then share what is left of the first call's HOLD (from
	# its ACK: sipp itself starts slowly on a loaded machine), less time
	# for dumpcap to start twice: two thirds (at most 10 s) to what
	# Switchboard sends, the rest (at most 5 s) to what it receives.
	local first="" up avail window inwin acks
	for _ in $(seq $((hold * 20))); do
		acks=$(metric 'switchboard_sip_requests_total{direction="in",method="ACK"}')
		[ -n "$first" ] || [ "$acks" -lt 1 ] || first=$(date +%s.%N)
		[ "$acks" -ge "$n" ] && break
		sleep 0.1
	done
	up=$(echo "$(date +%s.%N) ${first:-$start}" | awk '{printf "%d", $1 - $2 + 0.999}')
	avail=$((hold - up - 5))
	window=$((avail * 2 / 3 > 10 ? 10 : avail * 2 / 3))
	inwin=$((avail - window > 5 ? 5 : avail - window))
	if [ "$window" -lt 2 ] || [ "$inwin" -lt 1 ]; then
		echo "bridge.sh: the calls took ${up}s to come up, too long for HOLD=$hold; give a longer HOLD" >&2
		exit 1
	fi
	echo "   all $n calls up ${up}s after the first; capture windows ${window}s (out) and ${inwin}s (in)"
	local cpu0 in0 out0 cpu1 in1 out1 rss1 t0 t1
	# What Switchboard sends, on both legs: from its RTP ports ($RTP_PORTS)
	# to the sipps' (below 32768: free_media_port), not any other traffic
	# of the ephemeral range. The window starts once dumpcap captures.
	capture_begin "udp and src portrange $RTP_PORTS and dst portrange 1024-32767" "$W/$name-out.pcap"
	if [ -n "${PROFILE:-}" ]; then
		curl -fs "http://127.0.0.1:$DEBUG_PORT/debug/pprof/profile?seconds=$window" -o "$W/bridge-$n-${pair/\//-}-$rep.prof" &
		BG_PIDS+=($!)
	fi
	cpu0=$(cpu_seconds "$SB_PID")
	in0=$(metric 'switchboard_rtp_packets_total{direction="in"}')
	out0=$(metric 'switchboard_rtp_packets_total{direction="out"}')
	t0=$(date +%s.%N)
	sleep "$window"
	cpu1=$(cpu_seconds "$SB_PID")
	in1=$(metric 'switchboard_rtp_packets_total{direction="in"}')
	out1=$(metric 'switchboard_rtp_packets_total{direction="out"}')
	t1=$(date +%s.%N)
	rss1=$(rss_kb "$SB_PID")
	capture_end
	# Then what the sipps send into it: the input's own jitter.
	capture_begin "udp and dst portrange $RTP_PORTS and src portrange 1024-32767" "$W/$name-in.pcap"
	sleep "$inwin"
	capture_end
	# The share of complete streams is judged over what the capture
	# spans (dumpcap starts slowly on a loaded machine).
	local pace pin
	pace=$(pacing_nums "$W/$name-out.pcap" "$(pcap_span "$W/$name-out.pcap")")
	pin=$(pacing_nums "$W/$name-in.pcap" "$(pcap_span "$W/$name-in.pcap")")
	sipp_watch "$W/$name.csv" "$sipp_pid" "$hold" || { [ $? != 124 ] || echo "   STALLED: sipp stalled after the captures (the watchdog's line above says how) and was killed (its figures are partial)"; }
	local end nums
	end=$(date +%s.%N)
	nums=$(sipp_nums "$W/$name.csv" "$start" "$end")
	local figs
	figs=$(echo "$cpu0 $cpu1 $in0 $in1 $out0 $out1 $rss0 $rss1 $n $t0 $t1" | awk '{
		p = ($4 - $3) + ($6 - $5); cpu = $2 - $1; w = $11 - $10
		printf "%.2f %.3f %.0f %d %d", (p > 0 ? cpu * 1e6 / p : 0), 100 * cpu / w / $9, ($8 - $7) / $9, ($4 - $3) / w, ($6 - $5) / w }')
	# shellcheck disable=SC2086
	set -- $figs
	echo "   sipp ok/failed/retrans: $(echo "$nums" | cut -d' ' -f1-3); RTP in $4/s, out $5/s; CPU $1 µs/packet, $2 % of a core per bridged call; RSS +$3 KB/call"
	echo "   Switchboard sends (streams p50 p99 max ≥95%): $pace"
	echo "   sipps send       (streams p50 p99 max ≥95%): $pin"
	echo "b bridged:$pair $n $rep ${load%% *} $nums $1 $2 $3 $pace $pin" >>"$BRESULTS"
	bridge_stop
}

# capture_begin FILTER PCAP starts dumpcap on lo and returns once it
# captures (it starts slowly on a loaded machine); capture_end stops it
# and says what the kernel dropped, if anything.
CAP_PID=""
capture_begin() {
	dumpcap -q -P -i lo -B 128 -s 64 -f "$1" -w "$2" 2>"$W/dumpcap.err" &
	CAP_PID=$!
	BG_PIDS+=("$CAP_PID")
	for _ in $(seq 300); do
		grep -q '^File:' "$W/dumpcap.err" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/dumpcap.err" >&2
	echo "bridge.sh: dumpcap did not start capturing" >&2
	exit 1
}
capture_end() {
	kill -INT "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
	grep -o 'received/dropped.*' "$W/dumpcap.err" | grep -v ': [0-9]*/0 ' | sed 's/^/   capture: /' || true
}

# pcap_span PCAP: seconds from the first packet of a capture to its last.
pcap_span() {
	python3 - "$1" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb")
nano = struct.unpack("<I", f.read(4))[0] == 0xA1B23C4D
f.read(20)
first = last = None
while True:
    h = f.read(16)
    if len(h) < 16:
        break
    sec, frac, incl, _ = struct.unpack("<IIII", h)
    f.seek(incl, 1)
    last = sec + frac / (1e9 if nano else 1e6)
    first = last if first is None else first
print(f"{(last - first) if first is not None else 0:.2f}")
PY
}

# bridge_table prints the bridged runs, with compare's runs beside them.
bridge_table() {
	python3 - "$BRESULTS" "$RESULTS" <<'PY'
import sys
from collections import defaultdict
runs = [l.split() for l in open(sys.argv[1])]
ref = [l.split() for l in open(sys.argv[2])] if sys.argv[2] else []
a = [f for f in runs if f[0] == "a"]
b = [f for f in runs if f[0] == "b"]
if a:
    peers = defaultdict(dict)  # (rate, rep) -> peer -> (cps, cpu/call)
    for f in ref:
        if f[0] == "a":
            _, peer, rate, rep, load, ok, failed, retrans, cps, rtt, cpu = f
            peers[(rate, rep)][peer] = (float(cps), float(cpu) / max(int(ok), 1))
    print("\n(a) bridged call setup: answer, 1 s of audio both ways, BYE from the caller")
    print(f"{'rate':>5} {'run':>3} {'codecs':<18} {'load':>5} {'ok':>6} {'failed':>6} {'retrans':>7} {'done/s':>6} {'INV→200':>8} {'CPU/call':>9} {'÷uas':>5} {'÷prompt CPU':>11}")
    best = defaultdict(list)
    for f in a:
        _, peer, rate, rep, load, ok, failed, retrans, cps, rtt, cpu = f
        ok, failed, retrans, cps, cpu = int(ok), int(failed), int(retrans), float(cps), float(cpu)
        cpc = cpu / max(ok, 1)
        p = peers.get((rate, rep), {})
        ru = f"{cps / p['uas'][0]:.2f}" if p.get("uas") and p["uas"][0] else "-"
        rp = f"{cpc / p['switchboard'][1]:.2f}" if p.get("switchboard") and p["switchboard"][1] else "-"
        clean = failed == 0 and retrans <= ok // 100
        best[peer].append((int(rate), clean))
        print(f"{rate:>5} {rep:>3} {peer.split(':', 1)[1]:<18} {load:>5} {ok:>6} {failed:>6} {retrans:>7} {cps:>6.0f} {rtt + 'ms':>8} {cpc * 1000:>7.3f}ms {ru:>5} {rp:>11}" + ("" if clean else "  NOT CLEAN"))
    for peer, rs in best.items():
        top = max([r for r in {r for r, _ in rs} if all(c for rr, c in rs if rr == r)], default=0)
        print(f"highest bridged rate clean in every run (0 failed, retransmissions ≤ 1 %), {peer.split(':', 1)[1]}: {top}/s")
if b:
    prompt = [f for f in ref if f[0] == "b"]
    pp = sorted(float(f[10]) for f in prompt if float(f[10]) > 0)
    print("\n(b) concurrent bridged calls (2 legs each): what Switchboard sends on both legs, and what the sipps send into it")
    print(f"{'calls':>5} {'run':>3} {'codecs':<10} {'load':>5} {'ok':>5} {'failed':>6} {'µs/pkt':>6} {'%core/call':>10} {'KB/call':>7} {'streams':>7} {'p50':>7} {'p99':>7} {'max':>8} {'≥95%':>6} {'in p99':>7} {'in ≥95%':>7} {'÷prompt':>7}")
    for f in b:
        (_, peer, n, rep, load, ok, failed, retrans, cps, rtt, cpp, core, kb,
         st, p50, p99, mx, share, ist, ip50, ip99, imx, ishare) = f
        rp = f"{float(cpp) / pp[len(pp) // 2]:.2f}" if pp else "-"
        goal = "" if float(p99) < 5 and float(share) >= 95 and int(failed) == 0 else "  (goal: p99 < 5 ms, ≥95 % ≥ 95 %)"
        print(f"{n:>5} {rep:>3} {peer.split(':', 1)[1]:<10} {load:>5} {ok:>5} {failed:>6} {cpp:>6} {core:>10} {kb:>7} {st:>7} {p50 + 'ms':>7} {p99 + 'ms':>7} {mx + 'ms':>8} {share + '%':>6} {ip99 + 'ms':>7} {ishare + '%':>7} {rp:>7}{goal}")
    if prompt:
        print("played-prompt reference in the same run (`concurrent`: 1 leg per call, sipp streaming in, a looped prompt out):")
        for f in prompt:
            _, peer, n, rep, load, ok, failed, retrans, cps, rtt, cpp, kb, streams, p50, p99, mx, share = f
            print(f"{n:>5} {rep:>3} {'prompt':<10} {load:>5} {ok:>5} {failed:>6} {cpp:>6} {'':>10} {kb:>7} {streams:>7} {p50 + 'ms':>7} {p99 + 'ms':>7} {mx + 'ms':>8} {share + '%':>6}")
        print("÷prompt: CPU per packet of the bridged run over the median played prompt's")
PY
}

bridge_init() {
	need sipp sip-tester
	need curl curl
	need ss iproute2
	RESULTS=$W/results.txt
	BRESULTS=$W/bridge-results.txt
	: >"$RESULTS"
	: >"$BRESULTS"
	audio
	bridge_audio
	echo "== bridged calls on $(nproc) CPUs, commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'); load average $(loadavg)"
}

# bridge_sweep_a PAIRS…: sweep (a) over BRIDGE_RATES, each rate interleaved
# with sipp -sn uas and Switchboard's prompt call (unless PEERS=0).
bridge_sweep_a() {
	local rate rep pair
	bridge_switchboard "$@"
	flow 1000 "{\"module\":\"play\",\"data\":{\"id\":\"$W/prompt1s.wav\",\"answer\":true}}"
	for rate in ${BRIDGE_RATES:-100 200 300}; do
		for rep in $(seq "${REPEAT:-1}"); do
			if [ "${PEERS:-1}" != 0 ]; then
				setup_run uas "$rate" "$rep"
				setup_run switchboard "$rate" "$rep"
			fi
			for pair in "$@"; do
				bridge_setup_run "$pair" "$rate" "$rep"
			done
		done
	done
	bridge_stop
}

# bridge_sweep_b PAIRS…: sweep (b) over BRIDGE_CONC, each size followed by
# the played-prompt reference with as many legs (unless PROMPT_REF=0).
bridge_sweep_b() {
	local n rep pair
	need dumpcap "tshark (for dumpcap; say yes to non-root capture or run as root)"
	for n in ${BRIDGE_CONC:-500 750 1000}; do
		for rep in $(seq "${REPEAT:-1}"); do
			for pair in "$@"; do
				bridge_hold_run "$pair" "$n" "$rep"
			done
			[ "${PROMPT_REF:-1}" = 0 ] || hold_run switchboard "$((2 * n))" "$rep"
		done
	done
}

# bridge: the bridged-call harness (`run.sh bridge`).
bridge() {
	local sweeps=${BRIDGE_SWEEPS:-a b}
	bridge_init
	# shellcheck disable=SC2086
	[[ $sweeps != *a* ]] || bridge_sweep_a ${CODECS:-PCMU/PCMA PCMA/PCMA}
	# shellcheck disable=SC2086
	[[ $sweeps != *b* ]] || bridge_sweep_b ${CODECS:-PCMU/PCMA PCMA/PCMA}
	bridge_table
}

# bridge_smoke is the bridged part of `run.sh smoke`: BRIDGE_SMOKE_CALLS
# (10) concurrent bridged calls of 15 s (room for a slow start on a
# loaded machine), then as many bridged calls a
# second for a second, a PCMU caller and a PCMA callee; it fails unless
# every call completed and audio came out of Switchboard on every leg.
bridge_smoke() {
	local n=${BRIDGE_SMOKE_CALLS:-10}
	bridge_init
	BRIDGE_CONC=$n HOLD=${BRIDGE_SMOKE_HOLD:-15} REPEAT=1 PROMPT_REF=0 bridge_sweep_b PCMU/PCMA
	BRIDGE_RATES=$n SECONDS_PER_RATE=1 REPEAT=1 PEERS=0 bridge_sweep_a PCMU/PCMA
	bridge_table
	python3 - "$BRESULTS" "$n" <<'PY'
import sys
n, bad = int(sys.argv[2]), []
for f in (l.split() for l in open(sys.argv[1])):
    ok, failed = int(f[5]), int(f[6])
    if ok != n or failed:
        bad.append(f"({f[0]}) {ok} of {n} calls completed, {failed} failed")
    if f[0] == "b" and int(f[13]) < 2 * n:
        bad.append(f"(b) audio out of Switchboard on {f[13]} legs, want {2 * n}")
if bad:
    sys.exit("bridge smoke FAILED: " + "; ".join(bad))
print("bridge smoke: ok")
PY
}
