package sip_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// fakeMedia stands in for internal/media: SDP is checked for "v=0" and
// answered with a fixed body; audio operations just take time; digits
// come from InjectDigit.
type fakeMedia struct {
	mu       sync.Mutex
	sessions []*fakeSession
	silent   bool // sessions report no media from the far end after Start
}

func (m *fakeMedia) NewSession(ctx context.Context, accountID, callID string) (sip.MediaSession, error) {
	m.mu.Lock()
	s := &fakeSession{id: callID, digits: make(chan byte, 32), closed: make(chan struct{}), silent: m.silent}
	m.sessions = append(m.sessions, s)
	m.mu.Unlock()
	return s, nil
}

// session is the session of a leg by its Call-ID.
func (m *fakeMedia) session(callID string) *fakeSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.sessions {
		if s.id == callID {
			return s
		}
	}
	return &fakeSession{}
}

// open counts sessions not closed.
func (m *fakeMedia) open() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.sessions {
		select {
		case <-s.closed:
		default:
			n++
		}
	}
	return n
}

type fakeSession struct {
	id        string
	digits    chan byte
	closed    chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	updates   [][]byte
	started   bool
	startedAt time.Time
	silent    bool
	bridged   bool
}

// Activity reports media until now, or, when silent, none since Start.
func (s *fakeSession) Activity() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.started:
		return time.Time{}, false
	case s.silent:
		return s.startedAt, false
	}
	return time.Now(), false
}

const fakeSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"

func (s *fakeSession) Answer(offer []byte) ([]byte, error) {
	if !bytes.HasPrefix(offer, []byte("v=0")) {
		return nil, fmt.Errorf("parse offer: %w", media.ErrBadSDP)
	}
	if !bytes.Contains(offer, []byte("m=audio")) {
		return nil, media.ErrNoCodec
	}
	return []byte(fakeSDP), nil
}
func (s *fakeSession) Offer() []byte { return []byte(fakeSDP) }

func (s *fakeSession) AllowSource(netip.Addr) {}
func (s *fakeSession) SetAnswer(answer []byte) error {
	if !bytes.HasPrefix(answer, []byte("v=0")) {
		return media.ErrBadSDP
	}
	return nil
}
func (s *fakeSession) Update(offer []byte) ([]byte, error) {
	a, err := s.Answer(offer)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, offer)
	return a, nil
}

// updatesSeen are the offers Update took.
func (s *fakeSession) updatesSeen() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}
func (s *fakeSession) Start() error {
	s.mu.Lock()
	if !s.started {
		s.started, s.startedAt = true, time.Now()
	}
	s.mu.Unlock()
	return nil
}
func (s *fakeSession) wait(ctx context.Context, d time.Duration) error {
	return wait(ctx, d, s.closed)
}

// wait lets d pass, unless ctx ends or closed closes first (nil: never).
func wait(ctx context.Context, d time.Duration, closed <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-closed:
		return errors.New("closed")
	}
}

func (s *fakeSession) Play(ctx context.Context, o call.PlayOptions) error {
	return s.wait(ctx, 100*time.Millisecond)
}
func (s *fakeSession) Say(ctx context.Context, o call.SayOptions) error {
	return s.wait(ctx, 100*time.Millisecond)
}
func (s *fakeSession) Pause(ctx context.Context, d time.Duration) error { return s.wait(ctx, d) }
func (s *fakeSession) Gather(ctx context.Context, o call.GatherOptions) (string, error) {
	var got []byte
	t := time.NewTimer(o.Timeout)
	defer t.Stop()
	for {
		select {
		case d := <-s.digits:
			if strings.IndexByte(o.FinishOnKey, d) >= 0 {
				return string(got), nil
			}
			got = append(got, d)
			if o.NumDigits > 0 && len(got) == o.NumDigits {
				return string(got), nil
			}
			t.Reset(o.Timeout)
		case <-t.C:
			return string(got), nil
		case <-ctx.Done():
			return string(got), context.Cause(ctx)
		}
	}
}
func (s *fakeSession) Record(ctx context.Context, o call.RecordOptions) (call.Recording, error) {
	err := s.wait(ctx, o.MaxLength)
	return call.Recording{Duration: o.MaxLength}, err
}
func (s *fakeSession) SendDigits(ctx context.Context, digits string) error { return nil }
func (s *fakeSession) InjectDigit(d byte)                                  { s.digits <- d }
func (s *fakeSession) Bridge(ctx context.Context, other sip.MediaSession) error {
	s.mu.Lock()
	s.bridged = true
	s.mu.Unlock()
	o := other.(*fakeSession)
	select {
	case <-ctx.Done():
	case <-s.closed:
	case <-o.closed:
	}
	return nil
}
func (s *fakeSession) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// fakeTrunks trusts 127.0.0.0/8 for account "acct" unless refused, and
// sends numbers to gateway.
type fakeTrunks struct {
	mu      sync.Mutex
	refuse  bool
	gateway string
}

func (f *fakeTrunks) Inbound(a netip.Addr) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse || !a.IsLoopback() {
		return "", false
	}
	return "acct", true
}

func (f *fakeTrunks) Outbound(string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gateway, f.gateway != ""
}

// result is what the handler saw of one call.
type result struct {
	info   call.Info
	cause  error
	digits string
	dial   call.DialResult
	err    error
	// transfers are what the Dial of a dial-PORT call was told
	// (DialOptions.OnTransfer: what the trace's transfer lines show).
	transfers []call.Transfer
}

// hungUp reports whether the call ended because the caller hung up.
func (r result) hungUp() bool { return errors.Is(r.cause, call.ErrHangup) }

// testServer is a sip.Server on 127.0.0.1:0 whose handler acts on the
// dialled number: see script.
type testServer struct {
	*sip.Server
	media   *fakeMedia
	trunks  *fakeTrunks
	results chan result
	running chan string // the Call-ID of each call whose handler started
	// dialx gives the options of a "dialx-PORT" call's Dial
	// (dial_attrs_test.go); set before the call.
	dialx func(port string) call.DialOptions
}

// newServer starts a test server; set runs before it listens.
func newServer(t *testing.T, cfg sip.Config, set ...func(*sip.Server)) *testServer {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	ts := &testServer{media: &fakeMedia{}, trunks: &fakeTrunks{}, results: make(chan result, 1000), running: make(chan string, 1000)}
	log := slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := sip.New(cfg, ts.media, ts.trunks, ts.script, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range set {
		f(srv)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return ts
}

// script runs a call by its number:
//
//	answer-hangup   answer, pause 200 ms, hang up
//	answer-wait     answer, wait for the caller to hang up
//	early           play before answering, then answer and wait
//	ring            wait unanswered
//	gather          answer, gather 4 digits (or # ends), hang up
//	busy, rejected  Reject with that reason
//	sip-NNN         Reject "sip:NNN"
//	dial-PORT       Dial sip:far@127.0.0.1:PORT and report
//	dial-number     Dial the number 5551234 (outbound trunk)
//	dial-user       Dial user "bob"
//	dial-user-strict  the same, failing on the first reject
//	dial-user-member  the same, as a ring group's member
//	dial-user-noforward  the same, ignoring bob's call forwarding
//	refer-NAME      REFER the caller to sip:NAME@example.com, then hang up
func (ts *testServer) script(ctx context.Context, ch call.Channel) {
	info := ch.Info()
	ts.running <- info.ID
	r := result{info: info}
	defer func() {
		r.cause = context.Cause(ctx)
		ts.results <- r
	}()
	num := info.Request
	switch {
	case num == "answer-hangup":
		r.err = errors.Join(ch.Answer(ctx), ch.Pause(ctx, 200*time.Millisecond))
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case num == "answer-wait":
		r.err = ch.Answer(ctx)
		<-ctx.Done()
	case num == "early":
		r.err = ch.Play(ctx, call.PlayOptions{URL: "x"})
		if r.err == nil {
			r.err = ch.Answer(ctx)
		}
		<-ctx.Done()
	case num == "ring":
		<-ctx.Done()
	case num == "gather":
		r.digits, r.err = ch.Gather(ctx, call.GatherOptions{NumDigits: 4, FinishOnKey: "#", Timeout: 5 * time.Second})
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case num == "busy" || num == "rejected":
		r.err = ch.Reject(ctx, num)
	case strings.HasPrefix(num, "sip-"):
		r.err = ch.Reject(ctx, "sip:"+strings.TrimPrefix(num, "sip-"))
	case strings.HasPrefix(num, "refer-"):
		// REFER the caller to sip:NAME@example.com; the outcome in digits.
		res, err := ch.(call.Referrer).Refer(ctx, call.ReferOptions{Target: "sip:" + strings.TrimPrefix(num, "refer-") + "@example.com?X-Why=test"})
		r.digits, r.err = fmt.Sprintf("%s %d %d", res.Status, res.ReferCode, res.NotifyCode), err
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case num == "dial-number":
		r.dial, r.err = ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "number", Value: "5551234"}}, Timeout: 3 * time.Second})
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case num == "dial-user":
		r.dial, r.err = ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "user", Value: "bob"}}})
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case num == "dial-user-member":
		r.dial, r.err = ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "user", Value: "bob", Indirect: true}}})
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case num == "dial-user-noforward":
		r.dial, r.err = ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "user", Value: "bob", IgnoreForward: true}}})
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case num == "dial-user-strict":
		r.dial, r.err = ch.Dial(ctx, call.DialOptions{Targets: []call.Target{{Kind: "user", Value: "bob", FailOnReject: true}}})
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case strings.HasPrefix(num, "dialbig-"):
		// A caller id long enough to take the INVITE over 1,300 bytes.
		r.dial, r.err = ch.Dial(ctx, call.DialOptions{
			Targets:  []call.Target{{Kind: "sip", Value: "sip:far@127.0.0.1:" + strings.TrimPrefix(num, "dialbig-")}},
			Timeout:  2 * time.Second,
			CallerID: strings.Repeat("7", 1300),
		})
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case strings.HasPrefix(num, "dialx-") && ts.dialx != nil:
		r.dial, r.err = ch.Dial(ctx, ts.dialx(strings.TrimPrefix(num, "dialx-")))
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	case strings.HasPrefix(num, "dial-"):
		var mu sync.Mutex
		var told []call.Transfer
		r.dial, r.err = ch.Dial(ctx, call.DialOptions{
			Targets: []call.Target{{Kind: "sip", Value: "sip:far@127.0.0.1:" + strings.TrimPrefix(num, "dial-")}},
			Timeout: 2 * time.Second,
			OnTransfer: func(t call.Transfer) {
				mu.Lock()
				told = append(told, t)
				mu.Unlock()
			},
		})
		// What was told by the Dial's return (a later one would come after
		// the trace's dial line, and is missed here on purpose).
		mu.Lock()
		r.transfers = slices.Clone(told)
		mu.Unlock()
		_ = ch.Hangup(ctx, "NORMAL_CLEARING")
	default:
		r.err = ch.Reject(ctx, "sip:404")
	}
}

// next waits for the handler's result of a call.
func (ts *testServer) next(t *testing.T) result {
	t.Helper()
	select {
	case r := <-ts.results:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("no call ended within 15 s")
	}
	return result{}
}

// idle waits until no call runs and every media session is closed.
func (ts *testServer) idle(t *testing.T) {
	t.Helper()
	waitfor.True(t, 10*time.Second, "no call nor media session left", func() bool { return ts.Calls() == 0 && ts.media.open() == 0 })
}

// testWriter sends log lines to t.Log until the test's cleanups run
// (goroutines of sipgo may log after), then drops them.
type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func newTestWriter(t testing.TB) *testWriter {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
