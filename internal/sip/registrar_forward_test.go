package sip_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
)

// fakeDirectory holds bob: one device, "bob-desk" of account "acct",
// with the forwarding and do-not-disturb a test gives it.
type fakeDirectory struct {
	mu  sync.Mutex
	dev sip.Device
}

func (f *fakeDirectory) Device(string, string) (sip.Device, bool) { return sip.Device{}, false }

func (f *fakeDirectory) Devices(accountID string, t call.Target) []sip.Device {
	f.mu.Lock()
	defer f.mu.Unlock()
	if accountID != "acct" || t.Kind != "user" || t.Value != "bob" {
		return nil
	}
	return []sip.Device{f.dev}
}

// TestDialForwarding: a Dial to user bob follows his device's call
// forwarding: substitute rings the number (through the account's gateway)
// instead of the phone, or both together; failover rings it once the phone
// was busy, at once when the phone is not registered; keep_caller_id false
// shows bob as the caller; direct_calls_only leaves a ring group's call
// alone, and so does a ring group's ignore_forward; do-not-disturb rings
// nothing (USER_BUSY).
func TestDialForwarding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		number     string // the flow dialled; dial-user when empty
		fwd        *sip.Forward
		dnd        bool
		registered bool
		desk       int           // the desk phone's answer: 200 or a failure code
		deskRing   time.Duration // before it answers
		fwdRing    time.Duration
		want       string // dial status
		wantDesk   bool   // the desk phone got an INVITE
		wantFwd    bool   // the forward number got one
		fwdFrom    string // the From user of the forwarded INVITE, "" for the caller's
	}{
		{name: "substitute", fwd: &sip.Forward{Number: "5550001", Substitute: true, KeepCallerID: true}, registered: true,
			desk: 200, want: "completed", wantFwd: true},
		{name: "phone and number together", fwd: &sip.Forward{Number: "5550001", KeepCallerID: true}, registered: true,
			desk: 200, deskRing: 50 * time.Millisecond, fwdRing: time.Hour, want: "completed", wantDesk: true, wantFwd: true},
		{name: "failover after busy", fwd: &sip.Forward{Number: "5550001", Failover: true, KeepCallerID: true}, registered: true,
			desk: 486, want: "completed", wantDesk: true, wantFwd: true},
		{name: "failover, phone not registered", fwd: &sip.Forward{Number: "5550001", Failover: true, KeepCallerID: true},
			desk: 200, want: "completed", wantFwd: true},
		{name: "forwarding shows the forwarder", fwd: &sip.Forward{Number: "5550001", Substitute: true}, registered: true,
			desk: 200, want: "completed", wantFwd: true, fwdFrom: "2201"},
		{name: "do not disturb", fwd: &sip.Forward{Number: "5550001", Substitute: true}, dnd: true, registered: true,
			desk: 200, want: "busy"},
		{name: "no forwarding", registered: true, desk: 200, want: "completed", wantDesk: true},
		{name: "direct calls only: a ring group's call rings the phone", number: "dial-user-member",
			fwd: &sip.Forward{Number: "5550001", Substitute: true, DirectCallsOnly: true, KeepCallerID: true}, registered: true,
			desk: 200, want: "completed", wantDesk: true},
		{name: "direct calls only: a direct call is forwarded", number: "dial-user",
			fwd: &sip.Forward{Number: "5550001", Substitute: true, DirectCallsOnly: true, KeepCallerID: true}, registered: true,
			desk: 200, want: "completed", wantFwd: true},
		{name: "a ring group ignoring forwards rings the phone", number: "dial-user-noforward",
			fwd: &sip.Forward{Number: "5550001", Substitute: true, KeepCallerID: true}, registered: true,
			desk: 200, want: "completed", wantDesk: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := &fakeDirectory{dev: sip.Device{AccountID: "acct", ID: "bob-desk", OwnerID: "bob", CallerIDNumber: "2201",
				CallerIDName: "Bob", Forward: tc.fwd, DoNotDisturb: tc.dnd}}
			ts := newServer(t, sip.Config{}, func(s *sip.Server) {
				if err := s.EnableRegistrar(t.Context(), sip.RegistrarConfig{Directory: dir}); err != nil {
					t.Fatal(err)
				}
			})
			desk, number := newPhone(t, "udp"), newPhone(t, "udp")
			deskEv, _ := callee(desk, tc.deskRing, tc.desk, 100*time.Millisecond)
			fwdEv, _ := callee(number, tc.fwdRing, 200, 100*time.Millisecond)
			ts.trunks.mu.Lock()
			ts.trunks.gateway = "sip:" + number.addr
			ts.trunks.mu.Unlock()
			if tc.registered {
				sip.AddBinding(ts.Server, store.Registration{AccountID: "acct", DeviceID: "bob-desk", OwnerID: "bob",
					Contact: "sip:bob@" + desk.addr, Source: desk.addr, Transport: "udp", Expires: time.Now().Add(time.Hour)})
			}
			dialled := tc.number
			if dialled == "" {
				dialled = "dial-user"
			}
			newPhone(t, "udp").call(testCtx(t, 10*time.Second), ts.Addr(), dialled)
			r := ts.next(t)
			if r.dial.Status != tc.want {
				t.Errorf("dial %+v, want %s", r.dial, tc.want)
			}
			if tc.dnd && r.dial.Cause != "USER_BUSY" {
				t.Errorf("do-not-disturb: cause %q, want USER_BUSY", r.dial.Cause)
			}
			got := func(ev chan calleeEvent) *calleeEvent {
				select {
				case e := <-ev:
					return &e
				default:
					return nil
				}
			}
			d, f := got(deskEv), got(fwdEv)
			if (d != nil) != tc.wantDesk || (f != nil) != tc.wantFwd {
				t.Fatalf("INVITEs: desk %v (want %v), number %v (want %v)", d != nil, tc.wantDesk, f != nil, tc.wantFwd)
			}
			if f == nil {
				return
			}
			if f.req.Recipient.User != "5550001" {
				t.Errorf("forwarded INVITE for %s", f.req.StartLine())
			}
			// RFC 5806: the forwarded INVITE names bob as the diverting
			// party; the phone's own INVITE has none.
			reason := "unconditional"
			if tc.fwd.Failover {
				reason = "no-answer"
				if !tc.registered {
					reason = "unavailable"
				}
			}
			if h := f.req.GetHeader("Diversion"); h == nil || !strings.HasPrefix(h.Value(), `"Bob" <sip:2201@`) ||
				!strings.HasSuffix(h.Value(), ">;reason="+reason+";counter=1") {
				t.Errorf("forwarded INVITE's Diversion %v, want bob's, reason %s", h, reason)
			}
			if d != nil && d.req.GetHeader("Diversion") != nil {
				t.Errorf("the desk phone's INVITE has a Diversion: %v", d.req.GetHeader("Diversion"))
			}
			from := f.req.From().Address.User
			if tc.fwdFrom != "" && (from != tc.fwdFrom || f.req.From().DisplayName != "Bob") {
				t.Errorf("forwarded INVITE from %q %q, want %q Bob", f.req.From().DisplayName, from, tc.fwdFrom)
			}
			if tc.fwdFrom == "" && from != r.info.From {
				t.Errorf("forwarded INVITE from %q, want the caller %q", from, r.info.From)
			}
		})
	}
}

// TestDialFailOnSingleReject: with fail_on_single_reject, one of bob's
// phones rejecting the call ends the Dial (busy) and the other stops
// ringing; without it the other phone still answers.
func TestDialFailOnSingleReject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		number, want string
	}{
		{"dial-user-strict", "busy"},
		{"dial-user", "completed"},
	} {
		t.Run(tc.number, func(t *testing.T) {
			t.Parallel()
			dir := &fakeDirectory{dev: sip.Device{AccountID: "acct", ID: "bob-desk", OwnerID: "bob"}}
			ts := newServer(t, sip.Config{}, func(s *sip.Server) {
				if err := s.EnableRegistrar(t.Context(), sip.RegistrarConfig{Directory: dir}); err != nil {
					t.Fatal(err)
				}
			})
			rejecting, late := newPhone(t, "udp"), newPhone(t, "udp")
			callee(rejecting, 0, 486, 0)
			lateEv, _ := callee(late, 500*time.Millisecond, 200, 100*time.Millisecond)
			for _, p := range []*phone{rejecting, late} {
				sip.AddBinding(ts.Server, store.Registration{AccountID: "acct", DeviceID: "bob-desk", OwnerID: "bob",
					Contact: "sip:bob@" + p.addr, Source: p.addr, Transport: "udp", CallID: p.addr, Expires: time.Now().Add(time.Hour)})
			}
			newPhone(t, "udp").call(testCtx(t, 10*time.Second), ts.Addr(), tc.number)
			r := ts.next(t)
			if r.dial.Status != tc.want {
				t.Errorf("dial %+v, want %s", r.dial, tc.want)
			}
			next := func() string {
				select {
				case e := <-lateEv:
					return e.method
				case <-time.After(10 * time.Second):
					return "nothing"
				}
			}
			if m := next(); m != "INVITE" {
				t.Fatalf("the other phone saw %s first", m)
			}
			if m := next(); tc.want == "busy" && m != "CANCEL" {
				t.Errorf("the other phone saw %s, want CANCEL", m)
			}
		})
	}
}
