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
// Two limits apply: Config.MaxCallsPerSecond (the operator's rate, a
// token bucket with a burst of one second's worth), and, while
// Config.ShedLatency is set, an adaptive limit on the calls in progress
// (the calls taken and not yet ended: committed work), learned from the
// scheduler's latency in multiples of the limit (the load, saturation.go)
// the way TCP Vegas or Netflix's concurrency-limits learn a window. A new
// call is taken only while the calls in progress are under the limit.
//
// Why the calls in progress and not a rate: a call's CPU comes with its
// prompt, up to a second after its INVITE, so the latency says now what
// the calls taken a second ago cost, and a rate cap moved by it swung
// between all and a few (49–63 % of an overload taken, bench/RESULTS.md).
// The calls in progress count a call the moment it is taken, so the limit
// binds at once, and a call is let in only as another ends: the rate
// taken follows what the machine finishes (Little's law: the limit over
// the call's length), whatever the signal's lag.
//
//   - over the latency's limit two judged windows running, or once by
//     more than shedDeep times: the limit is cut to shedCut of the calls
//     in progress (or of the limit, when less), shedCutSevere past
//     shedAtOnce, shedCutDeep past shedDeep; never below shedLimitFloor.
//     Once and by less is no cut: one window is a GC cycle or another
//     process's burst as often as it is the calls (and the first calls of
//     a fresh process, its heap growing, show 40 ms for a window);
//   - no cut while the calls in progress are still over the limit (every
//     new call is refused already: the last cut is yet to take effect),
//     nor for shedCutHold after they came down to it;
//   - after shedClearRun windows under half the latency's limit, while the
//     limit binds (it refused calls, or the calls in progress are at
//     shedBinding of it or more), it
//     rises each window: by shedRaiseBack of the calls in progress it was
//     last cut from while under shedCut of them (back near the capacity
//     in about half a second), then by shedRaise of itself times the
//     clear windows in a row (less one, up to shedRaiseMax): it probes,
//     gently at first and faster the longer the latency stays clear;
//   - it goes once it is twice the calls in progress (plus the floor) for
//     shedIdleWindows windows, or after shedIdleWindows without a call. A
//     window with too few samples to judge (idle, or the process starved
//     by others so much that it hardly ran) neither raises nor cuts.
//
// Under the limit, the calls taken are also paced at shedPace times the
// rate the limit lets in (the limit over the calls' length), with a burst
// of shedPaceBurst of a second: calls of the same length that were taken
// together end together, and a limit that let in one call per call ended
// would take them together again, every call length, in bursts the
// scheduler's latency reads as overload.
//
// An INVITE admitted as it is read is pending (counted in progress for
// shedSetupGone at most) until onInvite claims it; onInvite holds it until the
// call ends, so an INVITE sipgo never hands over does not hold its place
// for ever.
const (
	shedCutHold     = 400 * time.Millisecond
	shedCut         = 0.9
	shedCutSevere   = 0.8
	shedDeep        = 2    // times the limit: a deep backlog, cut at once (to shedCutDeep: shedCutSevere, past the same 2×, is then not reached; at 4 the queue's law took 1.26–1.38 of the clean rate at 1.5× offered, not clean; bench/RESULTS.md)
	shedCutDeep     = 0.6  // cut to this
	shedClearRun    = 2    // clear windows in a row before a raise
	shedOverRun     = 2    // windows over the limit in a row before a cut,
	shedAtOnce      = 2    // times the limit: severe
	shedRaiseBack   = 0.05 // of the calls in progress at the last cut, a window, while under shedCut of them
	shedRaise       = 0.01 // of the limit, a window, above that, times the clear windows in a row (less one),
	shedRaiseMax    = 10   // up to this many
	shedBinding     = 0.9  // of the limit: the calls in progress press on it
	shedLimitFloor  = 25.0 // calls in progress: a few calls at once are never shed
	shedIdleWindows = 20   // windows: the limit goes
	shedCallTimeAvg = 0.2  // weight of a window's call time in its average
	shedPace        = 1.2  // times the limit over the calls' length: the pace of calls taken under the limit
	shedPaceBurst   = 0.02 // s of that pace taken at once
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

	limit    float64 // the adaptive limit on the calls in progress, 0: none
	active   int     // calls taken whose onInvite holds them, until they end
	pending  callRing
	ended    int           // calls ended since the last adjust,
	endedFor time.Duration // their lengths added up
	callTime time.Duration // the calls' length, averaged over windows; 0: not known
	paceTok  float64       // the pace's tokens under the limit
	paceLast time.Time
	lastCut  time.Time
	peak     float64   // the calls in progress the limit was last cut from: too many
	settled  time.Time // when the calls in progress came down to the limit after its last cut
	taken    int       // calls taken since the last adjust
	refused  int       // calls the limit refused since the last adjust
	overRun  int       // windows over the limit in a row
	clearRun int       // windows clear in a row
	idle     int       // windows in a row without a call taken nor over the limit
	loose    int       // windows in a row the limit was twice the calls in progress
	setup    setupWatch

	seen recentSet
}

func (a *admission) init(perSecond float64, adaptive bool) {
	a.rate, a.tokens, a.adaptive = perSecond, max(perSecond, 1), adaptive
	a.seen.seed = maphash.MakeSeed()
}

// on reports whether any read-time limit is configured.
func (a *admission) on() bool { return a.rate > 0 || a.adaptive }

// admit takes a new call or says why not (ShedRate, ShedSaturated). A
// call taken is in progress from now: pending (onInvite claims it) when
// pending is set, held (release ends it) otherwise.
func (a *admission) admit(now time.Time, saturated, pending bool) string {
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
	if a.limit > 0 {
		if float64(a.inProgressLocked(now)) >= a.limit {
			a.refused++
			return ShedSaturated
		}
		if a.callTime > 0 {
			pace := shedPace * a.limit / a.callTime.Seconds()
			a.paceTok = min(max(1, pace*shedPaceBurst), a.paceTok+now.Sub(a.paceLast).Seconds()*pace)
			a.paceLast = now
			if a.paceTok < 1 {
				a.refused++
				return ShedSaturated
			}
			a.paceTok--
		}
	}
	if a.rate > 0 {
		a.tokens--
	}
	a.taken++
	if pending {
		a.pending.enter(now.UnixNano())
		if a.adaptive {
			a.setup.enter(now.UnixNano()) // read over UDP: in setup until its ACK (shed_setup.go)
		}
	} else {
		a.active++
	}
	return ""
}

// inProgressLocked is the calls in progress: held, and pending for less
// than shedSetupGone.
func (a *admission) inProgressLocked(now time.Time) int {
	n, _ := a.pending.waiting(now, time.Time{})
	return a.active + n
}

// claim holds a pending call that was admitted at (unix nanoseconds; 0:
// not pending, a re-sent INVITE of a call claimed before) until release:
// onInvite has it.
func (a *admission) claim(at int64) {
	a.mu.Lock()
	if at != 0 {
		a.pending.leave(at)
	}
	a.active++
	a.mu.Unlock()
}

// release ends a call held since admit or claim at since (its length
// goes into the calls' length the pace is set by).
func (a *admission) release(since time.Time) {
	d := time.Since(since)
	a.mu.Lock()
	a.active--
	a.ended++
	a.endedFor += d
	a.mu.Unlock()
}

// adjust moves the adaptive limit after a window of length window whose
// scheduler latency was load times the limit, and the SIP datagrams' wait
// in the socket qload times its own (negative: not measured, or too few
// datagrams to say); judged is false when the window held too few
// samples to say (the process idle, or starved by others so much that it
// hardly ran): it is then neither over nor clear.
//
// With the socket's standing queue measured (shed_queue.go), the
// window's load is the latency's, but no more than the queue's, or a
// shedDeep-th of the latency's when that is more:
//
//   - over (a cut) only while the process is short of CPU and falls
//     behind its socket, or while the latency alone is past shedDeep
//     times its limit (a process so late that its answers will be,
//     drained socket or not: cut deep and at once). A process that is busy but drains its socket
//     keeps up: refusing calls then refuses what it would carry (some 6 %
//     of the calls at a rate the bench runs clean);
//   - clear (a raise, while the limit binds) while the latency is, or
//     while the socket drains and the latency is within shedAtOnce times
//     its limit: the limit probes up until the queue says no more, by
//     shedRaise of itself a window (not faster the longer it lasts: the
//     process is busy).
func (a *admission) adjust(load, qload float64, judged bool, window time.Duration, now time.Time) {
	busy := load > 0.5 // clear, if at all, by the socket's queue alone: probe gently
	if qload >= 0 {
		load = min(load, max(qload, load/shedDeep))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.setup.judge(now, a.lastCut) // for /metrics: the setup time of the window
	over, severe := judged && load > 1, judged && load > shedAtOnce
	clear := judged && load <= 0.5
	inProgress := float64(a.inProgressLocked(now))
	taken, refused := a.taken, a.refused
	if a.ended > 0 {
		t := a.endedFor / time.Duration(a.ended)
		if a.callTime == 0 {
			a.callTime = t
		} else {
			a.callTime += time.Duration(shedCallTimeAvg * float64(t-a.callTime))
		}
	}
	a.taken, a.ended, a.endedFor, a.refused = 0, 0, 0, 0
	switch {
	case !judged: // says nothing: the runs go on
	case over:
		a.overRun, a.clearRun = a.overRun+1, 0
	case clear:
		a.overRun, a.clearRun = 0, a.clearRun+1
	default:
		a.overRun, a.clearRun = 0, 0
	}
	if taken > 0 || over {
		a.idle = 0
	} else if a.idle++; a.idle >= shedIdleWindows {
		a.limit = 0 // no call for a while: a starved window says too little to raise it
	}
	if a.limit > 0 && a.settled.IsZero() && inProgress < a.limit+1 { // admit lets in up to its ceiling
		a.settled = now
	}
	switch {
	case over && (a.overRun >= shedOverRun || load > shedDeep):
		if a.limit > 0 && (a.settled.IsZero() || now.Sub(a.settled) < shedCutHold) {
			return // the last cut is yet to show
		}
		base := inProgress
		if a.limit > 0 && a.limit < base {
			base = a.limit
		}
		cut := shedCut
		switch {
		case load > shedDeep:
			cut = shedCutDeep
		case severe:
			cut = shedCutSevere
		}
		if a.limit == 0 {
			a.paceTok, a.paceLast = shedLimitFloor, now
		}
		a.limit, a.lastCut, a.settled, a.loose, a.peak = max(shedLimitFloor, base*cut), now, time.Time{}, 0, base
		if inProgress < a.limit+1 {
			a.settled = now
		}
	case !over && a.limit > 0:
		if a.limit > 2*inProgress+shedLimitFloor {
			if a.loose++; a.loose >= shedIdleWindows {
				a.limit = 0 // the load fell well under the limit
				return
			}
		} else {
			a.loose = 0
		}
		if a.clearRun >= shedClearRun && (refused > 0 || inProgress >= shedBinding*a.limit) {
			// The longer the latency stays clear, the faster: a limit
			// learnt in a passing burst (a GC cycle, the first calls)
			// is back up in a second or two, and one near the capacity
			// probes it gently.
			step := shedRaise * a.limit * float64(min(a.clearRun-1, shedRaiseMax))
			if busy {
				step = shedRaise * a.limit
			}
			if a.limit < shedCut*a.peak {
				step = shedRaiseBack * a.peak
			}
			a.limit += max(1, step)
		}
	}
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

// limitNow is the adaptive limit on the calls in progress (0: none), the
// calls in progress it counts, and the rate it lets in at the calls'
// length (the limit over it; over one second while not known), for
// /metrics and tests.
func (a *admission) limitNow(now time.Time) (limit float64, inProgress int, perSecond float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	limit, inProgress, perSecond = a.limit, a.inProgressLocked(now), a.limit
	if a.callTime > 0 {
		perSecond = a.limit / a.callTime.Seconds()
	}
	return limit, inProgress, perSecond
}

// recentSet remembers the Call-IDs of recent INVITEs (hashed), taken or
// shed, in two generations of recentFor each: -1 shed; for a call taken,
// the unix nanoseconds of its read (less its two low bits), with
// recentAcked once its first ACK came and recentClaimed once onInvite
// claimed it. The read's time stays after the ACK: an INVITE challenged
// for credentials (407) is ACKed and re-sent with the same Call-ID, and
// the re-sent one's claim takes the first one's place among the calls in
// progress (it counted twice for 2 s when the ACK wiped the time).
type recentSet struct {
	seed      maphash.Seed
	mu        sync.Mutex
	cur, prev map[uint64]int64
	rotated   time.Time
}

// The flags of a call taken in recentSet.
const (
	recentAcked   = 1 // its first ACK came: out of setup
	recentClaimed = 2 // onInvite holds it: no longer pending
	recentFlags   = recentAcked | recentClaimed
)

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

// claim marks a call taken as claimed by onInvite: it returns when its
// INVITE was read (unix nanoseconds) the first time, 0 after (a re-sent
// INVITE of the same call: its place was claimed already), or when the
// Call-ID is not of a call taken.
func (r *recentSet) claim(k uint64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range []map[uint64]int64{r.cur, r.prev} {
		if v, ok := m[k]; ok {
			if v < 0 || v&recentClaimed != 0 {
				return 0
			}
			m[k] = v | recentClaimed
			return v &^ recentFlags
		}
	}
	return 0
}

func (r *recentSet) put(k uint64, taken bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil || now.Sub(r.rotated) >= recentFor {
		r.prev, r.cur, r.rotated = r.cur, make(map[uint64]int64, len(r.cur)), now
	}
	v := int64(-1)
	if taken {
		v = now.UnixNano() &^ recentFlags
	}
	r.cur[k] = v
}

// ack reports what became of the INVITE of an ACK's Call-ID (as get) and
// marks the first ACK of a call taken: at is when the call's INVITE was
// read (unix nanoseconds), 0 when the call is not in setup (shed,
// unknown, or ACKed before). One look-up for both: every ACK comes here.
func (r *recentSet) ack(k uint64) (taken, known bool, at int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range []map[uint64]int64{r.cur, r.prev} {
		if v, ok := m[k]; ok {
			if v < 0 {
				return false, true, 0
			}
			if v&recentAcked != 0 {
				return true, true, 0
			}
			m[k] = v | recentAcked
			return true, true, v &^ recentFlags
		}
	}
	return false, false, 0
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
	why := s.adm.admit(now, s.sat.saturated(), true)
	s.adm.seen.put(k, why == "", now)
	if why == "" {
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
// missed) is judged now. It says why the call is shed, or "" and whether
// the call now holds its place among the calls in progress: onInvite then
// releases it (release) when it returns, as the call ends.
func (s *Server) admitted(transport, callID string) (why string, held bool) {
	if !s.adm.on() {
		if s.sat.saturated() { // forced, in tests
			return ShedSaturated, false
		}
		return "", false
	}
	if transport == "UDP" {
		k := maphash.String(s.adm.seen.seed, callID)
		if taken, known := s.adm.seen.get(k); known && taken {
			s.adm.claim(s.adm.seen.claim(k))
			return "", true
		}
	}
	if why = s.adm.admit(time.Now(), s.sat.saturated(), false); why != "" {
		return why, false
	}
	return "", true
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
	taken, known, at := s.adm.seen.ack(s.adm.seen.key(id))
	if at > 0 && s.adm.adaptive {
		s.adm.acked(at, time.Now())
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
