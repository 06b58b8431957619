package sip_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/sip"
)

// machineModel is a machine that carries capacity new calls a second,
// as the scheduler's latency shows it: each call taken costs CPU for lag
// windows (answer, prompt), work beyond the capacity queues as a backlog,
// and the latency (in multiples of --shed-latency) is low while the
// machine has room, in the band between half the limit and the limit near
// its capacity, and over the limit in proportion to the backlog. Every
// spikeEvery windows, one window is over by spike whatever the load (a GC
// cycle, another process's burst).
type machineModel struct {
	capacity   float64
	lag        int
	spikeEvery int
	spike      float64

	recent  []float64 // calls/s taken in the last lag windows
	backlog float64   // calls' worth of work queued
	n       int
}

// window takes one window's rate of calls taken and says its latency.
func (m *machineModel) window(taken float64, window time.Duration) float64 {
	m.n++
	m.recent = append(m.recent, taken)
	if len(m.recent) > m.lag {
		m.recent = m.recent[1:]
	}
	var load float64
	for _, r := range m.recent {
		load += r
	}
	load /= float64(m.lag)
	m.backlog = max(0, m.backlog+(load-m.capacity)*window.Seconds())
	switch {
	case m.spikeEvery > 0 && m.n%m.spikeEvery == 0:
		return m.spike
	case m.backlog > 0:
		return 1.2 + 10*m.backlog/m.capacity // 10 % of a second's calls queued: 2.2 × the limit
	case load > 0.95*m.capacity:
		return 0.8
	default:
		return 0.2
	}
}

// offerLoad runs the admission against the model for d at perSecond calls a
// second offered, adjusting it every window as saturation.read does, and
// returns the rate taken in each window.
func offerLoad(a *sip.Admission, m *machineModel, now *time.Time, d time.Duration, perSecond float64) []float64 {
	const window = 100 * time.Millisecond
	step := time.Duration(float64(time.Second) / perSecond)
	var out []float64
	for end := now.Add(d); now.Before(end); {
		taken := 0
		for next := now.Add(window); now.Before(next); *now = now.Add(step) {
			if a.Admit(*now) == "" {
				taken++
			}
		}
		rate := float64(taken) / window.Seconds()
		out = append(out, rate)
		a.Adjust(m.window(rate, window), window, *now)
	}
	return out
}

func meanOf(rs []float64) float64 {
	var sum float64
	for _, r := range rs {
		sum += r
	}
	return sum / float64(len(rs))
}

// TestAdmissionApproachesCapacity: offered 1.5 times what a machine
// carries, whose latency lags the calls taken by half a second and spikes
// over the limit now and then by itself, the adaptive cap takes at least
// 80 % of the capacity (the first tuning took a third to a half), without
// queueing more than a tenth of a second's calls after the onset;
// once the offered load falls back, the cap goes and no call is shed.
func TestAdmissionApproachesCapacity(t *testing.T) {
	for _, capacity := range []float64{300, 2000} {
		a := sip.NewAdmission(0)
		m := &machineModel{capacity: capacity, lag: 5, spikeEvery: 37, spike: 1.6}
		now := time.Unix(1_000_000, 0)
		// The first two seconds: the latency lags, so the onset queues
		// work before the first cut, whatever the tuning.
		taken := offerLoad(a, m, &now, 2*time.Second, 1.5*capacity)
		var worst float64
		for range 100 { // 10 s more, a window at a time
			taken = append(taken, offerLoad(a, m, &now, 100*time.Millisecond, 1.5*capacity)...)
			worst = max(worst, m.backlog)
		}
		got := meanOf(taken[20:])
		t.Logf("capacity %.0f/s offered %.0f/s: taken %.0f/s (%.0f %%) after the first 2 s, worst backlog %.0f calls, cap now %.0f",
			capacity, 1.5*capacity, got, 100*got/capacity, worst, a.Cap())
		if got < 0.8*capacity || got > 1.05*capacity {
			t.Errorf("capacity %.0f/s: taken %.0f calls/s, want 80-105 %% of it", capacity, got)
		}
		if worst > 0.1*capacity {
			t.Errorf("capacity %.0f/s: %.0f calls' work queued at worst: the cap lets through too much", capacity, worst)
		}
		offerLoad(a, m, &now, 10*time.Second, capacity/3)
		if c := a.Cap(); c != 0 {
			t.Errorf("capacity %.0f/s: cap %.0f once the load fell to a third of it, want none", capacity, c)
		}
		if why := a.Admit(now); why != "" {
			t.Errorf("capacity %.0f/s: a call at a third of it shed: %s", capacity, why)
		}
	}
}

// TestAdmissionRecoversAfterBurst: a burst that saturates the machine for
// a moment cuts the cap; once the latency is clear again the cap is back
// near the rate it cut from within about a second (the first tuning took
// 7 s from its floor of 50/s), and a lone spike of latency does not cut it.
func TestAdmissionRecoversAfterBurst(t *testing.T) {
	a := sip.NewAdmission(0)
	now := time.Unix(1_000_000, 0)
	window := 100 * time.Millisecond
	run := func(load float64, n int) {
		for range n {
			for next := now.Add(window); now.Before(next); now = now.Add(time.Second / 2000) {
				a.Admit(now) // 2,000 calls/s offered
			}
			a.Adjust(load, window, now)
		}
	}
	run(0.2, 10)
	run(1.5, 1) // a lone spike: not cut
	if c := a.Cap(); c != 0 {
		t.Fatalf("a cap of %.0f after one window over the limit by half, want none", c)
	}
	run(0.2, 1)
	run(8, 2) // a burst: far over the limit
	cut := a.Cap()
	if cut <= 0 || cut > 1500 {
		t.Fatalf("cap %.0f after a burst over 8 times the limit, want cut to at most 1,500", cut)
	}
	windows := 0
	for a.Cap() != 0 && a.Cap() < 0.75*2000 {
		run(0.2, 1)
		if windows++; windows > 12 {
			t.Fatalf("cap %.0f after %d clear windows from %.0f, want back near 2,000/s within 1.2 s", a.Cap(), windows, cut)
		}
	}
	t.Logf("cut to %.0f/s by the burst; %d clear windows later the cap is %.0f/s", cut, windows, a.Cap())
}

// TestAdmissionStarvedWindows: a window with too few scheduler samples
// to judge (the process starved by other processes, as on a shared
// machine) neither raises the cap nor takes it away while calls come (the
// first tuning took it for clear and dropped the cap under overload);
// two seconds without a call do take it away.
func TestAdmissionStarvedWindows(t *testing.T) {
	a := sip.NewAdmission(0)
	now := time.Unix(1_000_000, 0)
	window := 100 * time.Millisecond
	offerWindow := func() {
		for next := now.Add(window); now.Before(next); now = now.Add(time.Second / 1000) {
			a.Admit(now)
		}
	}
	offerWindow()
	a.Adjust(3, window, now) // far over: cut at once
	cut := a.Cap()
	if cut == 0 {
		t.Fatal("no cap after a window three times over the limit")
	}
	for range 30 {
		offerWindow()
		a.AdjustUnjudged(window, now)
	}
	if c := a.Cap(); c != cut {
		t.Errorf("cap %.0f after starved windows with calls, want %.0f unchanged", c, cut)
	}
	for range 19 {
		now = now.Add(window)
		a.AdjustUnjudged(window, now)
	}
	if c := a.Cap(); c != cut {
		t.Errorf("cap %.0f after 1.9 s without a call, want %.0f still", c, cut)
	}
	now = now.Add(window)
	a.AdjustUnjudged(window, now)
	if c := a.Cap(); c != 0 {
		t.Errorf("cap %.0f after 2 s without a call, want none", c)
	}
}

// TestAdmissionRate: --max-calls-per-second takes a second's burst and
// then the rate, whatever the adaptive cap says.
func TestAdmissionRate(t *testing.T) {
	a := sip.NewAdmission(100)
	now := time.Unix(1_000_000, 0)
	taken := 0
	for i := range 1000 { // 1,000 calls in one second
		if a.Admit(now.Add(time.Duration(i)*time.Millisecond)) == "" {
			taken++
		}
	}
	if taken < 190 || taken > 201 { // the burst of 100, then 100 over the second
		t.Errorf("took %d of 1,000 calls in a second at 100/s", taken)
	}
	if why := a.Admit(now.Add(time.Second)); why != sip.ShedRate {
		t.Errorf("over the rate: %q, want %q", why, sip.ShedRate)
	}
}

// TestStatelessResponse: the 503 built from a raw INVITE parses, answers
// its transaction (Via, From, To with a tag of ours, Call-ID, CSeq), and
// says Retry-After; the raw To-tag check agrees with the parser on every
// RFC 4475 request.
func TestStatelessResponse(t *testing.T) {
	invite := []byte("INVITE sip:1000@10.0.0.1 SIP/2.0\r\n" +
		"v: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-1\r\nVia: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK-2\r\n" +
		"f: \"A\" <sip:a@10.0.0.2>;tag=x\r\nTo: <sip:1000@10.0.0.1>\r\ni: abc@def\r\nCSeq:  7 INVITE\r\n" +
		"Contact: <sip:a@10.0.0.2>\r\nContent-Length: 0\r\n\r\n")
	raw := sip.StatelessResponse(invite, "503 Service Unavailable", "Retry-After: 5", "switchboard")
	msg, err := sipmsg.ParseMessage(raw)
	if err != nil {
		t.Fatalf("503 does not parse: %v\n%s", err, raw)
	}
	res, ok := msg.(*sipmsg.Response)
	if !ok || res.StatusCode != 503 {
		t.Fatalf("not a 503: %s", raw)
	}
	if vias := res.GetHeaders("Via"); len(vias) != 2 || func() string { b, _ := res.Via().Params.Get("branch"); return b }() != "z9hG4bK-1" {
		t.Errorf("Vias %v", vias)
	}
	if tag, _ := res.To().Params.Get("tag"); tag == "" {
		t.Error("To without our tag")
	}
	if res.CallID().Value() != "abc@def" || res.CSeq().SeqNo != 7 || res.From().DisplayName != "A" {
		t.Errorf("headers: %s", raw)
	}
	if h := res.GetHeader("Retry-After"); h == nil || h.Value() != "5" {
		t.Error("no Retry-After")
	}
	if sip.StatelessResponse([]byte("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"), "503 X", "", "") != nil {
		t.Error("a response to a request without From, To, Call-ID, CSeq")
	}

	files, _ := filepath.Glob(filepath.Join(sip.TortureDir(t), "*.dat"))
	n := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		m, err := sipmsg.ParseMessage(data)
		if err != nil {
			continue
		}
		req, ok := m.(*sipmsg.Request)
		if !ok || req.To() == nil {
			continue
		}
		n++
		_, tagged := req.To().Params.Get("tag")
		// wsinv's `tag =" 1918181833n"` is a tag sipgo does not read: the
		// raw check sees it (the call is then judged in onInvite).
		if got := sip.RawToTag(data); got != tagged && filepath.Base(f) != "wsinv.dat" {
			t.Errorf("%s: raw To tag %v, parsed %v (To: %s)", filepath.Base(f), got, tagged, req.To().Value())
		}
		if id := sip.RawHeader(data, "call-id", "i"); req.CallID() != nil && len(req.GetHeaders("Call-ID")) == 1 &&
			!bytes.Equal(id, []byte(req.CallID().Value())) && !strings.ContainsAny(string(id), "\r\n") {
			t.Errorf("%s: raw Call-ID %q, parsed %q", filepath.Base(f), id, req.CallID().Value())
		}
	}
	if n < 20 {
		t.Errorf("only %d requests checked", n)
	}
}

// TestShedAsRead: over --max-calls-per-second, a new INVITE over UDP gets
// a stateless 503 with Retry-After and a To tag, again when retransmitted
// (no transaction keeps it; the call is counted once), and the ACK of
// that 503 goes nowhere; a
// retransmission of an INVITE taken is answered by its transaction, never
// shed.
func TestShedAsRead(t *testing.T) {
	t.Parallel()
	ts := newServer(t, sip.Config{MaxCallsPerSecond: 0.2}) // a burst of one, then one in 5 s
	u := newUDPPeer(t)
	addr, _ := net.ResolveUDPAddr("udp", ts.Addr())
	invite := func(id string) []byte {
		return []byte("INVITE sip:sip-486@" + ts.Addr() + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + u.conns[0].LocalAddr().String() + ";branch=z9hG4bK" + id + "\r\n" +
			"From: <sip:a@127.0.0.1>;tag=f" + id + "\r\nTo: <sip:sip-486@" + ts.Addr() + ">\r\n" +
			"Call-ID: " + id + "\r\nCSeq: 1 INVITE\r\nContact: <sip:a@" + u.conns[0].LocalAddr().String() + ">\r\n" +
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	}
	answer := func(msg []byte, id string) (int, []byte) {
		u.drain()
		if _, err := u.conns[0].WriteTo(msg, addr); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(5 * time.Second)
		for {
			select {
			case b := <-u.got:
				if code := statusOf(b); code >= 200 && callIDOf(b) == id {
					return code, b
				}
			case <-deadline:
				return 0, nil
			}
		}
	}
	if code, _ := answer(invite("taken"), "taken"); code != 486 {
		t.Fatalf("first call: %d, want 486 from its flow", code)
	}
	if code, _ := answer(invite("taken"), "taken"); code != 486 {
		t.Errorf("its retransmission: %d, want the 486 again, not shed", code)
	}
	for range 2 { // the INVITE and its retransmission
		code, res := answer(invite("shed"), "shed")
		if code != 503 {
			t.Fatalf("a call over the rate: %d, want 503", code)
		}
		if !bytes.Contains(res, []byte("\r\nRetry-After: 5\r\n")) || !sip.RawToTag(res) {
			t.Errorf("503 without Retry-After or To tag:\n%s", res)
		}
	}
	ack := bytes.Replace(invite("shed"), []byte("INVITE sip:"), []byte("ACK sip:"), 1)
	ack = bytes.Replace(ack, []byte("CSeq: 1 INVITE"), []byte("CSeq: 1 ACK"), 1)
	if _, err := u.conns[0].WriteTo(ack, addr); err != nil {
		t.Fatal(err)
	}
	u.options(t, ts.Addr())
	if got := ts.ShedCounts(); got[sip.ShedRate] != 1 {
		t.Errorf("shed by reason %v, want 1 for rate: a call counted once, however often its INVITE came", got)
	}
}
