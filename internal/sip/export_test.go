package sip

import (
	"time"
	"weak"

	"github.com/switchboard/switchboard/internal/store"
)

// TortureDir lets the external tests find the RFC 4475 messages the same
// way the internal ones do.
var TortureDir = tortureDir

// SetAckTimers sets the T1 and T2 of s's 2xx retransmissions, so that a
// test sees a call given up for want of an ACK in 64·t1; before Start.
func SetAckTimers(s *Server, t1, t2 time.Duration) { s.t1, s.t2 = t1, t2 }

// PendingReinvite reports whether the dialog of callID (either leg) has
// answered a re-INVITE whose ACK has not come: tests wait on it instead
// of sleeping.
func PendingReinvite(s *Server, callID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.dialogs {
		if d.callID == callID {
			d.mu.Lock()
			p := d.pending != nil
			d.mu.Unlock()
			return p
		}
	}
	return false
}

// MediaID is the id the media session of a call was opened with: an
// inbound call's CallSid for its SIP Call-ID, else the id itself (an
// outbound leg's Call-ID).
func MediaID(s *Server, sipCallID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.calls[sipCallID]; l != nil {
		return l.info.ID
	}
	return sipCallID
}

// AddBinding binds a contact of a device as a REGISTER would, so that a
// test rings devices without the digest exchange; after EnableRegistrar.
func AddBinding(s *Server, b store.Registration) {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	k := devKey(b.AccountID, b.DeviceID)
	s.reg.bindings[k] = append(s.reg.bindings[k], b)
}

// ForceSaturated makes s judge itself saturated (1), not (-1), or measure
// (0), so a test sees the shedding without starving the machine.
func ForceSaturated(s *Server, v int32) { s.sat.force.Store(v) }

// Saturation is the scheduler-latency watch alone, for its own test.
type Saturation = saturation

// NewSaturation returns a watch with the given limit.
func NewSaturation(limit time.Duration) *Saturation {
	sa := &saturation{}
	sa.init(limit, nil, nil)
	return sa
}

// Read takes one reading (what run does every window).
func (sa *Saturation) Read() { sa.read() }

// Saturated reports the watch's judgement of the last window.
func (sa *Saturation) Saturated() bool { return sa.over.Load() }

// Admission is the read-time admission of new calls, for its own test.
type Admission = admission

// NewAdmission returns an admission with the adaptive limit on, and
// perSecond the operator's rate (0: none).
func NewAdmission(perSecond float64) *Admission {
	a := &admission{}
	a.init(perSecond, true)
	return a
}

// Admit is admit, not forced, the call held until Release (as onInvite
// holds one taken over TCP).
func (a *Admission) Admit(now time.Time) string { return a.admit(now, false, false) }

// AdmitRead is admit as admitDatagram does it: the call taken is pending
// until Claim, and in setup until Ack.
func (a *Admission) AdmitRead(now time.Time) string { return a.admit(now, false, true) }

// Claim is onInvite taking a call admitted as read at at.
func (a *Admission) Claim(at time.Time) { a.claim(at.UnixNano()) }

// Release is the end of a call that was taken d before now.
func (a *Admission) Release(d time.Duration) { a.release(time.Now().Add(-d)) }

// Adjust is adjust.
func (a *Admission) Adjust(load float64, window time.Duration, now time.Time) {
	a.adjust(load, -1, true, window, now)
}

// AdjustQueue is adjust with the datagrams' wait in the socket measured:
// qload times its limit.
func (a *Admission) AdjustQueue(load, qload float64, window time.Duration, now time.Time) {
	a.adjust(load, qload, true, window, now)
}

// AdjustUnjudged is adjust after a window with too few samples to judge.
func (a *Admission) AdjustUnjudged(window time.Duration, now time.Time) {
	a.adjust(0, -1, false, window, now)
}

// Limit is the adaptive limit on the calls in progress (0: none) and the
// calls in progress at now.
func (a *Admission) Limit(now time.Time) (float64, int) {
	l, n, _ := a.limitNow(now)
	return l, n
}

// Cap is the rate the limit lets in (ShedCap).
func (a *Admission) Cap(now time.Time) float64 {
	_, _, c := a.limitNow(now)
	return c
}

// Raw helpers of the guard and the read-time shedding.
var (
	StatelessResponse = statelessResponse
	RawToTag          = rawToTag
	RawHeader         = rawHeader
)

// QuantileSince is quantileSince.
var QuantileSince = quantileSince

// Ack ends the setup of a call that entered at at: its ACK was read at now.
func (a *Admission) Ack(at, now time.Time) { a.acked(at.UnixNano(), now) }

// InSetup is the calls in setup at now.
func (a *Admission) InSetup(now time.Time) int {
	n, _ := a.setupNow(now)
	return n
}

// StrayResponses is how many responses of no transaction s has seen.
func StrayResponses(s *Server) uint64 { return s.strays.Load() }

// LegAlive watches the leg of the call in progress whose SIP Call-ID is
// given, weakly: the func reports whether it is still in memory (false
// when there was no such call).
func LegAlive(s *Server, sipCallID string) func() bool {
	s.mu.Lock()
	l := s.calls[sipCallID]
	s.mu.Unlock()
	if l == nil {
		return func() bool { return false }
	}
	w := weak.Make(l)
	return func() bool { return w.Value() != nil }
}
