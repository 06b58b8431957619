package call

import "context"

// Referrer is a channel that can ask its caller to place the call
// elsewhere itself (SIP REFER, RFC 3515): TwiML's <Refer>. Found with As;
// only a SIP call has it.
type Referrer interface {
	// Refer sends the request and waits for its outcome (the far end's
	// NOTIFYs) while ctx lasts. An error means the call ended meanwhile
	// or the target is not a usable URI; a refused or failed transfer is
	// a result.
	Refer(ctx context.Context, o ReferOptions) (ReferResult, error)
}

// ReferOptions describe a REFER.
type ReferOptions struct {
	// Target is the sip: URI the caller is asked to call, with URI
	// headers (?X-Header=value&User-to-User=…) passed on as Twilio does.
	Target string
}

// ReferResult is how a REFER ended, in Twilio's terms.
type ReferResult struct {
	// Status is ReferCallStatus: in-progress (the target answered the
	// far end's call), busy, no-answer, canceled or failed.
	Status string
	// ReferCode answers the REFER (202 when accepted); NotifyCode is the
	// status of the last NOTIFY's sipfrag. 0 when none came.
	ReferCode, NotifyCode int
}
