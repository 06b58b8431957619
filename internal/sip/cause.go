package sip

import (
	"errors"

	"github.com/switchboard/switchboard/internal/call"
)

// The causes a leg's context ends with, besides call.ErrHangup (the
// caller hung up): the engine and Dial read them with context.Cause.
var (
	// errEnded is the cause of a call's context once Switchboard ended it
	// (hung up, rejected); operations after that return it.
	errEnded = errors.New("sip: call ended")
	// errAnswered is returned by Reject on an answered call.
	errAnswered = errors.New("sip: call already answered")
	// errExpired ends a call whose session timer ran out (RFC 4028).
	errExpired = errors.New("sip: session expired without refresh")
	// errNoAck ends a call whose 2xx was never acknowledged.
	errNoAck = errors.New("sip: no ACK for 2xx")
	// errShutdown ends the calls of a server that stops.
	errShutdown = errors.New("sip: server shutting down")
	// errCalleeHangup ends an outbound leg whose far end sent BYE.
	errCalleeHangup = errors.New("sip: callee hung up")
	// errRingTimeout ends the ringing of a Dial that nobody answered.
	errRingTimeout = errors.New("sip: no answer before the ring timeout")
	// errLost ends a leg that answered after another one won the Dial.
	errLost = errors.New("sip: another leg answered first")
	// errMediaTimeout ends an answered call from which no RTP nor RTCP
	// came for Config.MediaTimeout: the trace's cause is media_timeout.
	errMediaTimeout = &call.EndCause{Cause: "media_timeout", Err: errors.New("sip: no media from the caller")}
)
