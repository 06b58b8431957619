package call

import (
	"context"
	"errors"
	"time"
)

// ErrNotRecording is returned by StopRecording when no recording runs.
var ErrNotRecording = errors.New("the call is not being recorded")

// CallRecordingOptions describe a recording of the rest of the call, both
// parties (Kazoo's record_call), made in the background while the flow goes
// on.
type CallRecordingOptions struct {
	Format    string        // "mp3" or "wav"
	URL       string        // where the file is sent when the recording ends; "" keeps it locally
	Method    string        // "put" or "post", for URL
	TimeLimit time.Duration // longest recording
	Label     string        // free text kept with the recording
	// Done, when set, gets the recording once it ended (StopRecording,
	// the time limit, or the end of the call), in the background: where
	// it is sent to URL.
	Done func(Recording, error)
}

// CallRecorder is implemented by channels that can record the whole call in
// the background: an optional interface, found with As.
type CallRecorder interface {
	// StartRecording starts recording; a recording already running is
	// left as it is.
	StartRecording(ctx context.Context, o CallRecordingOptions) error
	// StopRecording stops the running recording and returns it;
	// ErrNotRecording when none runs.
	StopRecording(ctx context.Context) (Recording, error)
}

// As finds an optional interface (CallRecorder …) on ch or on the channels
// it wraps (a channel that wraps another has Unwrap() Channel, as Traced's
// result does).
func As[T any](ch Channel) (T, bool) {
	for range 16 { // wrappers never nest deeper; a cycle must not hang
		if t, ok := ch.(T); ok {
			return t, true
		}
		u, ok := ch.(interface{ Unwrap() Channel })
		if !ok {
			break
		}
		ch = u.Unwrap()
		if ch == nil {
			break
		}
	}
	var zero T
	return zero, false
}

// Bridger is a channel that can connect its audio to another running
// call's, both ways (the SIP leg): TwiML's <Dial><Queue> bridges the
// dequeuing call to the caller it took. Found with As.
type Bridger interface {
	// BridgeCall relays audio and DTMF between this call and other until
	// ctx ends or either call ends; it returns nil then. An error means
	// the two could not be bridged (other is not a call of the same kind).
	BridgeCall(ctx context.Context, other Channel) error
}

// Ringer is a channel that can tell an unanswered caller that the call
// is progressing (SIP 180 Ringing), so a slow first webhook is not taken
// for a dead line by the caller's network. Found with As.
type Ringer interface {
	// Ring sends the ringing indication once; nothing on an answered
	// call or after it was sent.
	Ring(ctx context.Context) error
}
