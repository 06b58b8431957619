package sip_test

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/sip"
)

// TestAdmissionSetupSilentCallers: one caller in ten never sends its ACK
// (a hostile or broken phone) while every other call is answered in 3 ms:
// the calls in setup (switchboard_calls_in_setup) are the silent ones of
// the last two seconds, they stop counting after that, and nothing is
// limited on their account (the setup signal measures; it moves nothing).
func TestAdmissionSetupSilentCallers(t *testing.T) {
	a := sip.NewAdmission(0)
	now := time.Unix(1_000_000, 0)
	type ackAt struct{ entered, at time.Time }
	var acks []ackAt
	n := 0
	for end := now.Add(5 * time.Second); now.Before(end); {
		for next := now.Add(modelWindow); now.Before(next); now = now.Add(time.Second / 2000) {
			for len(acks) > 0 && !acks[0].at.After(now) {
				a.Ack(acks[0].entered, acks[0].at)
				acks = acks[1:]
			}
			if a.AdmitRead(now) != "" {
				t.Fatal("a call shed with no limit")
			}
			a.Claim(now)
			a.Release(time.Millisecond) // the calls in progress are not the subject here
			if n++; n%10 == 0 {
				continue // silent
			}
			acks = append(acks, ackAt{now, now.Add(3 * time.Millisecond)})
		}
		a.Adjust(0.2, modelWindow, now)
	}
	if l, _ := a.Limit(now); l != 0 {
		t.Errorf("limit %.0f with one caller in ten silent, want none", l)
	}
	// 200 silent calls a second for 2 s, give or take a slot.
	if n := a.InSetup(now); n < 300 || n > 500 {
		t.Errorf("%d calls in setup, want about 400 (the silent ones of the last 2 s)", n)
	}
	now = now.Add(3 * time.Second)
	if n := a.InSetup(now); n != 0 {
		t.Errorf("%d calls in setup 3 s after the last, want 0", n)
	}
}
