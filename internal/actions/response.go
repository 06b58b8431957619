package actions

import (
	"context"
	"fmt"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "response", Group: "Advanced", Label: "SIP response", Icon: "response",
		Doc:    "Refuse the call with a SIP code (busy, not found …).",
		Schema: schema("response"), Terminal: true,
		New: func() engine.Action { return new(Response) },
	})
}

// Response refuses the call with a SIP response (Kazoo's response module),
// after an optional early-media prompt. An answered call is hung up with
// the code as its cause.
type Response struct {
	Code    int    `json:"code"`
	Message string `json:"message,omitempty"`
	Media   string `json:"media,omitempty"`
}

// Exec plays the media, then sends the response.
func (a *Response) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	if a.Media != "" {
		url, id := mediaURL(a.Media)
		if err := x.Call.Play(ctx, call.PlayOptions{URL: url, MediaID: id, Loop: 1}); err != nil {
			x.Log.Warn("response media not played", "err", err)
		}
	}
	cause := fmt.Sprintf("sip:%d", a.Code)
	if x.Call.Answered() {
		return engine.BranchEnd, x.Call.Hangup(ctx, cause)
	}
	if err := x.Call.Reject(ctx, cause); err != nil {
		return "", err
	}
	return engine.BranchEnd, x.Call.Hangup(ctx, cause)
}

var _ engine.Action = (*Response)(nil)
