package sip

import (
	"bytes"
	"hash/maphash"
	"net"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// New calls are admitted or shed as their INVITE is read, before sipgo
// parses it: past its capacity the server is CPU-bound, and an INVITE it
// refuses must cost next to nothing, or the SIP read loop falls behind,
// the kernel drops datagrams (the ACKs and BYEs of the calls taken among
// them) and the callers retransmit. A shed INVITE over UDP gets a
// stateless 503 with Retry-After built from its raw headers (no parse, no
// transaction); the ACK to that 503 is dropped unparsed.
//
// Two limits apply, each a token bucket: Config.MaxCallsPerSecond (the
// operator's rate, a burst of one second's worth), and an adaptive cap
// while Config.ShedLatency is set (saturation.go), moved every window by
// the scheduler's latency in multiples of the limit (the load):
//
//   - over the limit two windows running, or once by more than shedAtOnce
//     times, the cap is cut to shedCut of what was taken (shedCutSevere
//     past shedAtOnce: a backlog is building, and every INVITE read late
//     is a retransmission on its way). Once and by less is no cut: one
//     window is a GC cycle or another process's burst as often as it is
//     the calls (the p99 of a window's few dozen samples is nearly its
//     maximum);
//   - no cut for shedCutHold after one, nor while the load stays under
//     shedEasing of what it was then: the calls taken keep costing CPU
//     for a while (answer, prompt), so the latency lags the cap, and
//     cutting while the backlog drains would overshoot to a fraction of
//     the capacity (the first tuning, cutting by half to a floor of 50/s,
//     took a third to a half of what the machine carried);
//   - never below shedFloorShare of the rate taken in the recent clear
//     windows (good, which decays while the latency is not clear), nor
//     below shedFloor;
//   - while the load stays under one half, the cap rises by shedRaise of
//     the rate it was last cut from each window until it is back to
//     shedCut of it, then by shedRaiseProbe of itself: back near the
//     capacity in about half a second, then probing for more;
//   - it goes once it is twice the rate taken (plus the floor), or after
//     shedIdleWindows without a call. A window with too few samples to
//     judge (idle, or the process starved by others so much that it
//     hardly ran) neither raises nor cuts.
//
// So the calls taken follow what the machine can carry instead of
// swinging between all and a few.
//
// The calls in setup (shed_setup.go) can judge each window with the
// latency when calls come over UDP (setupJudge, when judgeSetup is set):
// a slow or stalled setup is over whatever the latency says, and setups
// answered at once make a window clear though the latency is over its
// limit by less than shedAtOnce. The server measures and exports them but
// does not let them judge (see judgeSetup).
const (
	shedCutHold     = 400 * time.Millisecond
	shedCut         = 0.8
	shedCutSevere   = 0.5
	shedDeep        = 4    // times the limit: a deep backlog,
	shedCutDeep     = 0.25 // cut to this
	shedClearRun    = 2    // clear windows in a row before a raise
	shedEasing      = 0.75 // no cut while the latency is under this share of what it was at the last cut
	shedOverRun     = 2    // windows over the limit in a row before a cut,
	shedAtOnce      = 2    // unless over this many times it
	shedRaise       = 0.05 // of the peak, a window, while the cap is under shedCut of it
	shedRaiseProbe  = 0.02 // of the cap, a window, above that
	shedFloor       = 50.0 // calls/s: below this, shedding would not help the CPU
	shedFloorShare  = 0.5  // of good
	shedGoodDecay   = 0.98 // per window not clear: good halves in about 3.5 s
	shedIdleWindows = 20   // windows without a call: the cap goes
	shedBurstTime   = 0.1  // s: the adaptive bucket holds a window's worth,
	shedBurstMin    = 25.0 // and at least this many: a few calls at once are never shed
	// recentFor is how long an INVITE's Call-ID is remembered (then as
	// long again in the previous generation): a retransmission of an
	// INVITE taken is not judged again, and the ACK of a 503 is known.
	// RFC 3261's Timer B is 32 s.
	recentFor = 16 * time.Second
)

// admission is the read-time decision on new calls.
type admission struct {
	adaptive bool // Config.ShedLatency is set

	mu     sync.Mutex
	rate   float64 // Config.MaxCallsPerSecond, 0: none
	tokens float64
	last   time.Time

	cap       float64 // the adaptive cap in calls/s, 0: none
	capTokens float64
	capLast   time.Time
	lastCut   time.Time
	taken     int     // calls taken since the last adjust
	overRun   int     // windows over the limit in a row
	clearRun  int     // windows clear in a row
	good      float64 // calls/s taken in recent clear windows (decaying)
	rateAvg   float64 // calls/s taken, averaged over the last windows
	peak      float64 // calls/s taken when the cap was last cut: too much
	cutLoad   float64 // the latency at the last cut, in multiples of the limit
	idle      int     // windows in a row without a call taken nor over the limit
	setup     setupWatch
	// judgeSetup lets the calls in setup judge windows with the latency
	// (setupJudge). Off in the server: on the quiet machine it took 8 %
	// more of an overload than the latency alone but left 2 of 8 runs
	// over 1 % retransmissions (0 of 6 without it; bench/RESULTS.md,
	// 2026-12-07 22:17). The setup signal is still measured and exported.
	judgeSetup bool

	seen recentSet
}

func (a *admission) init(perSecond float64, adaptive bool) {
	a.rate, a.tokens, a.adaptive = perSecond, max(perSecond, 1), adaptive
	a.seen.seed = maphash.MakeSeed()
}

// on reports whether any read-time limit is configured.
func (a *admission) on() bool { return a.rate > 0 || a.adaptive }

// admit takes a new call or says why not (ShedRate, ShedSaturated).
func (a *admission) admit(now time.Time, saturated bool) string {
	if saturated {
		return ShedSaturated
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rate > 0 {
		if !a.last.IsZero() {
			a.tokens = min(max(a.rate, 1), a.tokens+now.Sub(a.last).Seconds()*a.rate)
		}
		a.last = now
		if a.tokens < 1 {
			return ShedRate
		}
	}
	if a.cap > 0 {
		burst := max(shedBurstMin, a.cap*shedBurstTime)
		a.capTokens = min(burst, a.capTokens+now.Sub(a.capLast).Seconds()*a.cap)
		a.capLast = now
		if a.capTokens < 1 {
			return ShedSaturated
		}
		a.capTokens--
	}
	if a.rate > 0 {
		a.tokens--
	}
	a.taken++
	return ""
}

// adjust moves the adaptive cap after a window of length window whose
// scheduler latency was load times the limit; judged is false when the
// window held too few samples to say (the process idle, or starved by
// others so much that it hardly ran): it is then neither over nor clear.
func (a *admission) adjust(load float64, judged bool, window time.Duration, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	// The setup signal (shed_setup.go), when it has calls to go by and is
	// let, judges with the latency (setupJudge).
	if setupLoad, ok, _ := a.setup.judge(now, a.lastCut); ok && a.judgeSetup {
		load, judged = setupJudge(load, judged, setupLoad)
	}
	over, severe := load > 1, load > shedAtOnce
	clear := judged && load <= 0.5
	rate := float64(a.taken) / window.Seconds()
	a.taken = 0
	if over {
		a.overRun++
	} else {
		a.overRun = 0
	}
	if clear {
		a.clearRun++
	} else {
		a.clearRun = 0
	}
	a.rateAvg = (a.rateAvg + rate) / 2
	if rate > 0 || over {
		a.idle = 0
	} else if a.idle++; a.idle >= shedIdleWindows {
		a.cap = 0 // no call for a while: a starved window says too little to raise it
	}
	if clear {
		a.good = max(a.good, rate)
	} else {
		a.good *= shedGoodDecay
	}
	switch {
	case over && (a.overRun >= shedOverRun || load > shedAtOnce):
		if now.Sub(a.lastCut) < shedCutHold {
			return // the last cut is yet to show
		}
		if a.overRun > 1 && load < shedEasing*a.cutLoad {
			return // the last cut is taking effect: the backlog drains
		}
		// What was taken: this window's rate alone could be 0 (a starved
		// read loop reads nothing), so the recent average when larger.
		base := max(rate, a.rateAvg)
		if a.cap > 0 && a.cap < base {
			base = a.cap
		}
		cut := shedCut
		switch {
		case load > shedDeep:
			cut = shedCutDeep
		case severe:
			cut = shedCutSevere
		}
		next := max(shedFloor, shedFloorShare*a.good, base*cut)
		if a.cap == 0 {
			a.capTokens, a.capLast = max(shedBurstMin, next*shedBurstTime), now
		}
		a.cap, a.lastCut, a.peak, a.cutLoad = next, now, base, load
	case !over:
		a.cutLoad = 0 // the episode is over
		if a.clearRun < shedClearRun || a.cap == 0 {
			return
		}
		// Back fast to near the rate that was too much, then probe slowly.
		step := shedRaiseProbe * max(a.cap, a.peak)
		if a.cap < shedCut*a.peak {
			step = shedRaise * a.peak
		}
		a.cap += max(step, shedRaise*shedFloor)
		if a.cap > 2*(a.rateAvg+shedFloor) { // the load fell well under the cap
			a.cap = 0
		}
	}
}

// setupJudge is a window's load (in multiples of the limit, as adjust
// reads it) from the scheduler's latency (sched, judged) and the setup
// signal (setup):
//
//   - the calls wait for their ACK (setup over its limit): over, by the
//     more of the two, whatever the latency says;
//   - the latency over shedAtOnce times its limit: over (the CPU is short
//     however fast the calls are answered);
//   - setup under half its limit (the latency over its limit by less, or
//     not): clear, the cap may rise. The CPU is busy but keeps up: a
//     latency past its limit there is a busy machine's normal state near
//     its capacity, and cutting on it (and raising only under half of
//     it, which was rare) took 57 % of a quiet machine's rate, as the
//     model in TestAdmissionSetupNearCapacity does with the latency alone;
//   - otherwise held: neither cut nor raised.
func setupJudge(sched float64, judged bool, setup float64) (float64, bool) {
	const held, clear = 0.75, 0.25
	switch {
	case setup > 1:
		return max(sched, setup), true
	case judged && sched > shedAtOnce:
		return sched, true
	case setup <= 0.5:
		return clear, true
	default:
		return held, true
	}
}

// entered counts a call taken at now over UDP into setup (shed_setup.go).
func (a *admission) entered(now time.Time) {
	if !a.adaptive {
		return
	}
	a.mu.Lock()
	a.setup.enter(now.UnixNano())
	a.mu.Unlock()
}

// acked takes a call that entered setup at (unix nanoseconds) out of it:
// its ACK was read at now.
func (a *admission) acked(at int64, now time.Time) {
	a.mu.Lock()
	a.setup.leave(at, now, a.lastCut)
	a.mu.Unlock()
}

// setupNow is the calls in setup and the last judged window's setup time
// (its quantile, or how long a stalled setup waited), for /metrics.
func (a *admission) setupNow(now time.Time) (int, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, _ := a.setup.waiting(now, time.Time{})
	return n, a.setup.last
}

// capNow is the adaptive cap in calls/s (0: none), for /metrics and tests.
func (a *admission) capNow() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cap
}

// recentSet remembers the Call-IDs of recent INVITEs (hashed), taken or
// shed, in two generations of recentFor each: -1 shed, the unix
// nanoseconds of its read for a call taken and in setup, 0 for one taken
// whose ACK came.
type recentSet struct {
	seed      maphash.Seed
	mu        sync.Mutex
	cur, prev map[uint64]int64
	rotated   time.Time
}

// key is a Call-ID's hash (maphash.String of the same text is equal).
func (r *recentSet) key(callID []byte) uint64 { return maphash.Bytes(r.seed, callID) }

// get reports what became of the INVITE of a Call-ID: taken, or known
// at all.
func (r *recentSet) get(k uint64) (taken, known bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, known := r.cur[k]
	if !known {
		v, known = r.prev[k]
	}
	return known && v >= 0, known
}

func (r *recentSet) put(k uint64, taken bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil || now.Sub(r.rotated) >= recentFor {
		r.prev, r.cur, r.rotated = r.cur, make(map[uint64]int64, len(r.cur)), now
	}
	v := int64(-1)
	if taken {
		v = now.UnixNano()
	}
	r.cur[k] = v
}

// ack marks the first ACK of a call taken: it returns when the call's
// INVITE was read (unix nanoseconds), 0 when the call is not in setup
// (shed, unknown, or ACKed before).
func (r *recentSet) ack(k uint64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range []map[uint64]int64{r.cur, r.prev} {
		if v, ok := m[k]; ok {
			if v > 0 {
				m[k] = 0
				return v
			}
			return 0
		}
	}
	return 0
}

// admitDatagram judges a new INVITE read over UDP from raddr (a trunk's
// or a phone's: strangers were refused before). It reports false when
// the INVITE was shed and answered here, to go no further.
func (s *Server) admitDatagram(data []byte, raddr net.Addr, account string) bool {
	id := rawHeader(data, "call-id", "i")
	if id == nil {
		return true // sipgo refuses it
	}
	now := time.Now()
	k := s.adm.seen.key(id)
	taken, known := s.adm.seen.get(k)
	switch {
	case known && taken:
		return true // a retransmission of a call taken: its transaction answers
	case known:
		s.sendStateless503(data, raddr) // a retransmission of one shed: the same answer, counted once
		return false
	}
	why := s.adm.admit(now, s.sat.saturated())
	s.adm.seen.put(k, why == "", now)
	if why == "" {
		s.adm.entered(now)
		return true
	}
	s.countShed(why)
	s.sendStateless503(data, raddr)
	s.report(Refusal{Code: 503, Reason: "Overloaded", AccountID: account, Source: raddr.String(),
		From: unescape(rawUser(rawHeader(data, "from", "f"))), To: unescape(rawUser(startURI(data))), CallID: string(id)})
	return false
}

// sendStateless503 answers a raw INVITE 503 with Retry-After.
func (s *Server) sendStateless503(data []byte, raddr net.Addr) {
	if res := statelessResponse(data, "503 Service Unavailable", "Retry-After: "+retryAfter, s.cfg.UserAgent); res != nil && s.udp != nil {
		if _, err := s.udp.WriteTo(res, raddr); err != nil {
			s.log.Debug("stateless 503 not sent", "raddr", raddr.String(), "err", err)
		}
	}
}

// admitted is onInvite's part of admission: an INVITE that came over UDP
// was judged as it was read; one over TCP or TLS (or one the raw check
// missed) is judged now. It says why the call is shed, or "".
func (s *Server) admitted(transport, callID string) string {
	now := time.Now()
	if transport == "UDP" && s.adm.on() {
		if taken, known := s.adm.seen.get(maphash.String(s.adm.seen.seed, callID)); known && taken {
			return ""
		}
	}
	if !s.adm.on() {
		if s.sat.saturated() { // forced, in tests
			return ShedSaturated
		}
		return ""
	}
	return s.adm.admit(now, s.sat.saturated())
}

// shedAck reports whether a datagram is the ACK of a 503 sent by
// admitDatagram, which needs no parse: nothing waits for it. The first
// ACK of a call taken ends its setup (shed_setup.go).
func (s *Server) shedAck(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("ACK ")) {
		return false
	}
	id := rawHeader(data, "call-id", "i")
	if id == nil {
		return false
	}
	k := s.adm.seen.key(id)
	taken, known := s.adm.seen.get(k)
	if known && taken && s.adm.adaptive {
		if at := s.adm.seen.ack(k); at > 0 {
			s.adm.acked(at, time.Now())
		}
	}
	return known && !taken
}

// countShed counts a call shed for why.
func (s *Server) countShed(why string) {
	switch why {
	case ShedRate:
		s.shedN.rate.Add(1)
	case ShedSaturated:
		s.shedN.saturated.Add(1)
	case ShedMaxCalls:
		s.shedN.maxCalls.Add(1)
	}
}

// eachHeader calls fn with the name and the value (trimmed, folded lines
// included) of each header line of a raw message's head, until fn
// returns false.
func eachHeader(data []byte, fn func(name, value []byte) bool) {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return
	}
	head := data[:end+2]
	i := bytes.Index(head, []byte("\r\n")) + 2 // past the start line
	for i > 1 && i < len(head) {
		e := i + bytes.Index(head[i:], []byte("\r\n"))
		for e+2 < len(head) && (head[e+2] == ' ' || head[e+2] == '\t') {
			e += 2 + bytes.Index(head[e+2:], []byte("\r\n"))
		}
		if name, value, ok := bytes.Cut(head[i:e], []byte(":")); ok {
			if !fn(bytes.TrimSpace(name), bytes.TrimSpace(value)) {
				return
			}
		}
		i = e + 2
	}
}

// rawHeader is the value of a raw message's first header called long or
// short (case-insensitive), nil without one.
func rawHeader(data []byte, long, short string) []byte {
	var out []byte
	eachHeader(data, func(name, value []byte) bool {
		if bytes.EqualFold(name, []byte(long)) || bytes.EqualFold(name, []byte(short)) {
			out = value
			return false
		}
		return true
	})
	return out
}

// rawToTag reports whether a raw request's To header has a tag: it is
// then in a dialog, not a new call.
func rawToTag(data []byte) bool { return toHasTag(rawHeader(data, "to", "t")) }

// toHasTag reports whether a raw To value has a tag parameter.
func toHasTag(to []byte) bool {
	if i := bytes.LastIndexByte(to, '>'); i >= 0 {
		to = to[i+1:]
	}
	for p := range bytes.SplitSeq(to, []byte(";")) {
		name, _, _ := bytes.Cut(p, []byte("="))
		if bytes.EqualFold(bytes.TrimSpace(name), []byte("tag")) {
			return true
		}
	}
	return false
}

// startURI is the Request-URI of a raw request's start line.
func startURI(data []byte) []byte {
	line, _, _ := bytes.Cut(data, []byte("\r\n"))
	parts := bytes.Fields(line)
	if len(parts) != 3 {
		return nil
	}
	return parts[1]
}

// rawUser is the user part of a raw SIP URI or name-addr, "" without one.
func rawUser(v []byte) string {
	if i := bytes.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
	}
	_, rest, ok := bytes.Cut(v, []byte(":"))
	if !ok {
		return ""
	}
	user, _, ok := bytes.Cut(rest, []byte("@"))
	if !ok || bytes.ContainsAny(user, ">;") {
		return ""
	}
	return string(user)
}

// statelessResponse answers a raw request without a transaction: the
// status line, the request's Via, From, To (with a tag of ours when it
// has none), Call-ID and CSeq copied line by line, the extra header lines
// and a Server header; nil when the request lacks one of them. It is what
// a request gets when it is refused before sipgo parses it.
func statelessResponse(data []byte, status, extra, server string) []byte {
	var b bytes.Buffer
	b.Grow(len(data) / 2)
	b.WriteString("SIP/2.0 " + status + "\r\n")
	var seen [5]bool
	eachHeader(data, func(name, value []byte) bool {
		i := -1
		switch strings.ToLower(string(name)) {
		case "via", "v":
			i = 0
		case "from", "f":
			i = 1
		case "to", "t":
			i = 2
		case "call-id", "i":
			i = 3
		case "cseq":
			i = 4
		}
		if i < 0 {
			return true
		}
		seen[i] = true
		b.WriteString([]string{"Via", "From", "To", "Call-ID", "CSeq"}[i] + ": ")
		b.Write(value)
		if i == 2 && !toHasTag(value) {
			b.WriteString(";tag=" + sipmsg.GenerateTagN(16)) // RFC 3261 §8.2.6.2
		}
		b.WriteString("\r\n")
		return true
	})
	for _, ok := range seen {
		if !ok {
			return nil
		}
	}
	if extra != "" {
		b.WriteString(extra + "\r\n")
	}
	if server != "" {
		b.WriteString("Server: " + server + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}
