package actions

import (
	"context"
	"errors"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name:     "pivot",
		Group:    "Advanced",
		Label:    "Pivot",
		Icon:     "pivot",
		Doc:      "Ask your web server what to do, in TwiML or Kazoo JSON.",
		Schema:   schema("pivot"),
		Branches: []string{"_"},
		New:      func() engine.Action { return new(Pivot) },
	})
}

// Pivot hands the call to the customer's web server, which answers with
// TwiML or a Kazoo JSON node tree. The "_" child is taken when the server
// cannot be used.
type Pivot struct {
	// VoiceURL is asked for instructions.
	VoiceURL string `json:"voice_url"`
	// Method is get or post, in either case.
	Method string `json:"method,omitempty"`
	// ReqFormat is kazoo or twiml: what the server answers with.
	ReqFormat string `json:"req_format,omitempty"`
	// ReqBodyFormat is form or json, for POST.
	ReqBodyFormat string `json:"req_body_format,omitempty"`
	// ReqTimeoutMS bounds each request; 0 means 5000.
	ReqTimeoutMS int `json:"req_timeout_ms,omitempty"`
	// Debug keeps every request and response of the call.
	Debug bool `json:"debug,omitempty"`
	// CDRURL receives the call's detail record when the call ends.
	CDRURL string `json:"cdr_url,omitempty"`
	// FallbackURL is asked when VoiceURL fails.
	FallbackURL string `json:"fallback_url,omitempty"`
	// Retries is how many more attempts follow a connection failure.
	Retries *int `json:"retries,omitempty"`
}

// errNotExecutable marks modules whose executor lands with the engine issue.
var errNotExecutable = errors.New("module cannot run calls yet")

// Exec is not yet wired to the webhook client; the engine turns the error
// into a defined next step (the "_" child, else a spoken apology and hangup).
func (p *Pivot) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	return "", errNotExecutable
}

var _ engine.Action = (*Pivot)(nil)
