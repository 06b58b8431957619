// Package call is the seam between call logic and telephony: the Channel
// interface every running call offers (a SIP/RTP leg, or a simulated one),
// and the call trace that records every operation on it.
package call

import (
	"context"
	"errors"
	"time"
)

// ErrHangup is the cause of a call's context when the caller hung up:
// context.Cause(ctx) == ErrHangup. Engines stop without calling it a
// failure.
var ErrHangup = errors.New("caller hung up")

// EndCause is the cause of a call's context when the channel ended an
// answered call itself, for a reason the admin must see in the trace (no
// media from the caller: "media_timeout"). The engine writes Cause as the
// hangup line's cause; Err says more.
type EndCause struct {
	Cause string
	Err   error
}

// Error names the cause and the reason, for logs.
func (e *EndCause) Error() string { return e.Cause + ": " + e.Err.Error() }

// Unwrap gives the reason, so errors.Is finds the channel's own sentinel.
func (e *EndCause) Unwrap() error { return e.Err }

// Info is what is known of a call when it arrives; no I/O.
type Info struct {
	ID string // the call id: a CallSid ("CA" + 32 hex), sent as CallSid / Call-ID
	// SIPCallID is the INVITE's Call-ID (sent as SipCallId); empty for a
	// simulated call. Older call-log entries used it as ID.
	SIPCallID  string
	AccountID  string    // the account whose flow runs the call
	From       string    // caller number (SIP From user)
	FromName   string    // caller display name
	FromRealm  string    // SIP From host
	To         string    // SIP To user
	ToRealm    string    // SIP To host
	Request    string    // the dialled number (Request-URI user), as dialled
	Direction  string    // "inbound"
	Started    time.Time // when the call arrived
	CallflowID string    // the flow the call was routed to
	// DeviceID and OwnerID name the registered device that placed the
	// call and its owner (a user id); empty for calls from trunks.
	DeviceID, OwnerID string
	// SIPHeaders are custom X- headers of the INVITE, sent on to webhooks.
	SIPHeaders map[string]string
}

// PlayOptions describe audio to play.
type PlayOptions struct {
	URL     string // http(s) URL, file path, or "media:<id>" for a stored media
	MediaID string // a stored media id (Kazoo "id")
	Loop    int    // times to play; 0 means as many as the cap allows (TwiML loop="0")
	// Terminators are keys that stop the audio (Kazoo "terminators").
	Terminators string
	// Digits, when set, are sent as DTMF instead of playing audio (TwiML
	// <Play digits="…">); "w" waits half a second.
	Digits string
}

// SayOptions describe text to speak.
type SayOptions struct {
	Text     string
	Voice    string // "man", "woman", "alice", "Polly.Joanna", "female" …
	Language string // "en-US", "en", "fr-FR" …
	Loop     int    // times to speak; 0 means as many as the cap allows
	// Terminators are keys that stop the speech.
	Terminators string
}

// Prompt is one thing said while waiting for digits: exactly one field set.
type Prompt struct {
	Say   *SayOptions
	Play  *PlayOptions
	Pause time.Duration
}

// GatherOptions describe a digit collection. A digit pressed during the
// prompts stops them (barge-in) and counts as the first digit.
type GatherOptions struct {
	NumDigits int           // stop after this many digits; 0 = no limit
	Timeout   time.Duration // wait for the first digit (after the prompts) and between digits
	// InterDigitTimeout, when set, replaces Timeout between digits.
	InterDigitTimeout time.Duration
	FinishOnKey       string // keys that end the input (not included in the digits); "" = none
	Prompts           []Prompt
	// Result, when set, receives what the digits cannot say: the key
	// that ended the input (TwiML's FinishedOnKey) and the prompts that
	// could not be played (traced with Twilio's code by the interpreter).
	Result *GatherResult
}

// GatherResult is the detail of a finished Gather (GatherOptions.Result).
type GatherResult struct {
	// FinishedOnKey is the FinishOnKey key that ended the input; "" when
	// a timeout or NumDigits did.
	FinishedOnKey string
	// PromptErrors are the prompts that failed (an unplayable media …);
	// the gather went on without them.
	PromptErrors []error
}

// RecordOptions describe a recording of the caller.
type RecordOptions struct {
	MaxLength   time.Duration // longest recording
	Timeout     time.Duration // silence that ends it; 0 = never
	FinishOnKey string        // keys that end it
	PlayBeep    bool
	Trim        bool // trim leading and trailing silence
}

// Recording is a finished recording.
type Recording struct {
	URL      string        // where it can be fetched (authenticated)
	Path     string        // file in the data dir, when stored locally
	Duration time.Duration // length of the audio
	// Digits is the key that ended the recording, "hangup" when the caller
	// hung up, "" when it ended on silence or length.
	Digits string
}

// Target is one party a Dial rings.
type Target struct {
	Kind  string `json:"kind"`  // number, sip, user, device, client, conference, queue
	Value string `json:"value"` // the number, URI, id or name
	// Delay and Timeout, when set, are this target's own: it rings Delay
	// after the others start, for Timeout (a ring group member's).
	Delay   time.Duration `json:"delay,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
	// Headers are custom SIP headers for this target's INVITE (Kazoo's
	// custom_sip_headers, TwiML <Parameter>).
	Headers map[string]string `json:"headers,omitempty"`
	// How a user or device target treats its call forwarding and the
	// caller's own phones (Kazoo's ignore_forward of ring groups, the
	// direct_calls_only of call_forward, can_call_self of user and
	// device): IgnoreForward rings the phones even when forwarding is on;
	// Indirect marks a ring group's member, whose forwarding set for
	// direct calls only is not followed; CanCallSelf rings the caller's
	// own phones too.
	IgnoreForward bool `json:"-"`
	Indirect      bool `json:"-"`
	CanCallSelf   bool `json:"-"`
	// SuppressCLID rings a user's or device's phones as an anonymous
	// caller; StaticInvite, when set, is the user part of the Request-URI
	// sent to its phones instead of their Contact's (Kazoo's suppress_clid
	// and static_invite).
	SuppressCLID bool   `json:"-"`
	StaticInvite string `json:"-"`
	// FailOnReject ends the whole Dial when one of this target's phones
	// rejects the call (busy or declined), instead of waiting for the
	// others (Kazoo's fail_on_single_reject).
	FailOnReject bool `json:"-"`
	// SendDigits are keys sent to this party as RFC 4733 events once it
	// answers, before the bridge (TwiML <Number sendDigits>); "w" waits
	// half a second.
	SendDigits string `json:"send_digits,omitempty"`
	// Screen, when set, runs on this party's leg once it answers and
	// before the bridge (the whisper or screening url of TwiML's
	// <Number>, <Sip>, <Client>); the caller hears ringback meanwhile.
	// accepted false (or an error) means the party refused: its leg is
	// hung up and the Dial goes on as if it had not answered.
	Screen func(ctx context.Context, leg Channel) (accepted bool, err error) `json:"-"`
}

// DialOptions describe a call to other parties; the first to answer is
// bridged to the caller.
type DialOptions struct {
	Targets      []Target
	Timeout      time.Duration // ring time
	CallerID     string
	TimeLimit    time.Duration // longest bridged call
	HangupOnStar bool
	Record       bool
	// Strategy is "simultaneous" (the default) or "single" (one after another).
	Strategy string
	// RingTone is the country whose ringback an answered caller hears
	// while the targets ring (TwiML ringTone: "us", "uk", "de" …); the
	// United States' when empty or unknown.
	RingTone string
	// RecordFromRinging starts Record's recording when the targets start
	// ringing (TwiML record-from-ringing), not when one answers.
	RecordFromRinging bool
	// RecordDual keeps each party on its own channel of the recording
	// (TwiML record-…-dual: the caller left, the callee right); otherwise
	// both are mixed into one.
	RecordDual bool
	// OnTransfer, when set, is told of each transfer a party of the
	// bridged call asks for (SIP REFER) once it ended: Traced sets it to
	// write the trace's "transfer" line, so a transfer shows in the trace
	// of the call it happened in.
	OnTransfer func(Transfer)
	// OnWarning, when set, is told of a failure in the bridged call that
	// was handled and the call went on (music on hold that could not be
	// played: the built-in played instead): Traced sets it to write a
	// "warning" line with the code and message.
	OnWarning func(code, message string)
}

// Transfer is one transfer of a bridged call by one of its parties.
type Transfer struct {
	Kind   string // blind or attended
	By     string // who asked: caller or callee
	Target string // the Refer-To URI
	// Status is completed (the caller's party changed, or the parties
	// left were joined) or failed; SIPCode is the final status the
	// transferor was told (200, 404, 486 …).
	Status  string
	SIPCode int
}

// DialResult is how a dial ended.
type DialResult struct {
	// Status is completed, answered, busy, no-answer, failed or canceled.
	Status   string
	CallID   string        // the other leg's id
	Duration time.Duration // talk time
	// Cause is the hangup cause (USER_BUSY, NO_ANSWER …) or SIP code
	// ("sip:486"), for bridge failure branches.
	Cause string
	// SIPCode is the far end's final response when the dial failed on
	// one (486 …), 0 otherwise: Kazoo's bridges branch on "sip:486" when
	// no child is named after Cause.
	SIPCode int
	// Recording is the bridged call's recording, when Record was asked
	// and the call was bridged (nil otherwise).
	Recording *Recording
}

// Channel is what a running call offers. Every method returns promptly when
// ctx ends; when the caller hung up, context.Cause(ctx) is ErrHangup.
// Methods that need an answered call answer it first.
type Channel interface {
	Info() Info
	Answer(ctx context.Context) error
	Play(ctx context.Context, o PlayOptions) error
	Say(ctx context.Context, o SayOptions) error
	Pause(ctx context.Context, d time.Duration) error
	// Gather collects digits; "" when none were pressed before the timeout.
	Gather(ctx context.Context, o GatherOptions) (digits string, err error)
	Record(ctx context.Context, o RecordOptions) (Recording, error)
	Dial(ctx context.Context, o DialOptions) (DialResult, error)
	// Reject refuses an unanswered call: reason "busy" (486), "rejected"
	// (603), or a SIP code as "sip:404".
	Reject(ctx context.Context, reason string) error
	// Hangup ends the call; cause is a Kazoo/Q.850-style cause
	// ("NORMAL_CLEARING") or a SIP code.
	Hangup(ctx context.Context, cause string) error
	// Answered reports whether the call has been answered.
	Answered() bool
}

// Clock tells a call's time. A simulated call's clock jumps over waits, so
// a 5 s timeout costs no real 5 s; actions and traces read time from it,
// never from time.Now.
type Clock interface {
	Now() time.Time
}

// Clocked is implemented by channels with their own clock (the simulated
// one).
type Clocked interface {
	Clock() Clock
}

// TestCall is implemented by channels that only rehearse a call (the
// configurator's test call): actions that would keep something for the
// account — a voicemail message — say what they would keep instead, so
// a test leaves no messages in real boxes.
type TestCall interface {
	TestCall() bool
}

// IsTestCall reports whether ch, or the channel it wraps (a traced
// channel's Unwrap), rehearses a call (TestCall).
func IsTestCall(ch Channel) bool {
	for ch != nil {
		if t, ok := ch.(TestCall); ok {
			return t.TestCall()
		}
		u, ok := ch.(interface{ Unwrap() Channel })
		if !ok {
			return false
		}
		ch = u.Unwrap()
	}
	return false
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }
