package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Script is what the simulated caller and the parties it dials do, as
// `switchboard simulate --input … --dial …` gives it.
type Script struct {
	// Inputs are the caller's answers, one per operation that waits for
	// the caller (Gather, Record, NextInput), in order: "1234#" presses
	// those keys, "" presses nothing (the operation times out), "hangup"
	// hangs up at that point. When they run out, the caller presses
	// nothing.
	Inputs []string
	// Dials are the outcomes of each Dial, in order: "completed",
	// "answered", "busy", "no-answer", "failed" or "canceled", optionally with the
	// cause to report after a colon ("busy:sip:486"). When they run out,
	// "completed".
	Dials []string
}

// Input that hangs up instead of pressing keys.
const Hangup = "hangup"

// What the simulation assumes of time it does not script.
const (
	TalkTime        = 30 * time.Second // a completed dial's talk time
	RecordingLength = 3 * time.Second  // a recording's length (or MaxLength if shorter)
	RingTime        = 30 * time.Second // a no-answer dial without a timeout
	KeyTime         = 500 * time.Millisecond
)

// dialOutcome is a Dials entry read: the result a Dial returns.
type dialOutcome struct {
	status string
	cause  string
	code   int // the far end's SIP code: "sip:NNN" as the cause, 486 for busy
}

// defaultCauses are the causes reported for each outcome; a bridge's
// failure branches key on them (or on the SIP code given in the script).
var defaultCauses = map[string]string{
	"completed": "NORMAL_CLEARING",
	"answered":  "NORMAL_CLEARING",
	"busy":      "USER_BUSY",                // sip:486
	"no-answer": "NO_ANSWER",                // sip:480 / 408
	"failed":    "NORMAL_TEMPORARY_FAILURE", // sip:503
	"canceled":  "ORIGINATOR_CANCEL",        // the dial was called off while ringing
}

func parseDial(s string) (dialOutcome, error) {
	status, cause, _ := strings.Cut(strings.TrimSpace(s), ":")
	status = strings.ToLower(status)
	def, ok := defaultCauses[status]
	if !ok {
		return dialOutcome{}, fmt.Errorf("sim: unknown dial outcome %q (want completed, answered, busy, no-answer, failed or canceled)", s)
	}
	if cause == "" {
		cause = def
	}
	out := dialOutcome{status: status, cause: cause}
	if n, ok := strings.CutPrefix(strings.ToLower(cause), "sip:"); ok {
		code, err := strconv.Atoi(n)
		if err != nil || code < 300 || code > 699 {
			return dialOutcome{}, fmt.Errorf("sim: dial outcome %q: the SIP code must be 300 to 699", s)
		}
		out.code = code
	} else if status == "busy" && cause == def {
		out.code = 486
	}
	return out, nil
}

// Validate reports the first input that is neither keys nor "hangup", and
// the first unknown dial outcome.
func (s Script) Validate() error {
	for i, in := range s.Inputs {
		if in == Hangup {
			continue
		}
		for _, r := range in {
			if !strings.ContainsRune("0123456789*#ABCDabcd", r) {
				return fmt.Errorf("sim: input %d (%q): %q is not a key", i+1, in, r)
			}
		}
	}
	for _, d := range s.Dials {
		if _, err := parseDial(d); err != nil {
			return err
		}
	}
	return nil
}
