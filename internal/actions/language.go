package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "language", Group: "Advanced", Label: "Language", Icon: "language",
		Doc:    "Set the language later prompts are spoken in.",
		Schema: schema("language"), Branches: []string{"_"},
		New: func() engine.Action { return new(Language) },
	})
}

// Language sets the call's language (Kazoo's language module): text to
// speech without a language of its own (tts, menu and disa prompts) speaks
// it, and webhooks send it.
type Language struct {
	Language string `json:"language"`
}

// Exec sets the language and writes a "set" line.
func (a *Language) Exec(_ context.Context, x *engine.Exec) (string, error) {
	x.Vars.SetLanguage(a.Language)
	x.Trace.Add("set", "key", "language", "value", a.Language)
	return "_", nil
}

var _ engine.Action = (*Language)(nil)
