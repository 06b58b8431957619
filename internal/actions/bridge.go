package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

// The bridging modules (device, user, ring_group, group) share Kazoo's
// outcome: a call that was bridged ends the flow when it ends; one that
// was not goes on to the child named after the failure — its cause
// ("USER_BUSY", "NO_ANSWER", "USER_NOT_REGISTERED") or SIP code
// ("sip:486") — else to "_".

// defaultRing is Kazoo's ring time of a bridging module, in seconds.
const defaultRing = 20

// seconds is n seconds, or dflt seconds when n is not positive.
func seconds(n, dflt int) time.Duration {
	if n <= 0 {
		n = dflt
	}
	return time.Duration(n) * time.Second
}

// bridge dials o repeats times (at least once) until one target answers,
// and picks the branch that follows.
func bridge(ctx context.Context, x *engine.Exec, o call.DialOptions, repeats int) (string, error) {
	var (
		res call.DialResult
		err error
	)
	for i := 0; i < max(repeats, 1); i++ {
		res, err = x.Call.Dial(ctx, o)
		if err != nil || ctx.Err() != nil || bridged(res) {
			break
		}
		if res.Status != "no-answer" {
			break // busy or failed: ringing again changes nothing
		}
	}
	if err != nil {
		return "_", fmt.Errorf("bridge: %w", err)
	}
	return bridgeBranch(x, res), nil
}

func bridged(r call.DialResult) bool { return r.Status == "completed" || r.Status == "answered" }

// bridgeBranch is where the flow goes after a dial.
func bridgeBranch(x *engine.Exec, r call.DialResult) string {
	if bridged(r) {
		return engine.BranchEnd
	}
	for _, k := range failureKeys(r) {
		if x.HasChild(k) {
			return k
		}
	}
	return "_"
}

// failureKeys are the children a failed dial may go to, in Kazoo's order
// (cf_util:handle_bridge_failure): the hangup cause ("USER_BUSY"), then
// the SIP code ("sip:486"), then our status ("busy").
func failureKeys(r call.DialResult) []string {
	keys := make([]string, 0, 3)
	if r.Cause != "" {
		keys = append(keys, r.Cause)
	}
	if r.SIPCode != 0 {
		if k := fmt.Sprintf("sip:%d", r.SIPCode); k != r.Cause {
			keys = append(keys, k)
		}
	}
	if r.Status != "" {
		keys = append(keys, r.Status)
	}
	return keys
}

// strategy is Kazoo's strategy name as a Dial's ("single" or
// "simultaneous"); weighted_random rings one at a time, as single, in the
// order the ring group drew.
func strategy(s string) string {
	if s == "single" || s == "weighted_random" {
		return "single"
	}
	return "simultaneous"
}
