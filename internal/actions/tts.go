package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "tts", Group: "Basic", Label: "Text to speech", Icon: "tts",
		Doc:    "Speak a text to the caller.",
		Schema: schema("tts"), Branches: []string{"_"},
		New: func() engine.Action { return new(TTS) },
	})
}

// TTS speaks a text (Kazoo's tts module).
type TTS struct {
	// Text is what is said.
	Text string `json:"text"`
	// Voice is female (the default), male, or an engine voice.
	Voice string `json:"voice,omitempty"`
	// Language such as en-US.
	Language string `json:"language,omitempty"`
	// Engine is Kazoo's engine name; Switchboard uses its local engine.
	Engine string `json:"engine,omitempty"`
	// Terminators are keys that stop the speech.
	Terminators []string `json:"terminators,omitempty"`
	// EndlessPlayback repeats the text until a key or a hangup.
	EndlessPlayback bool `json:"endless_playback,omitempty"`
}

// Exec speaks the text, answering first.
func (a *TTS) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	loop := 1
	if a.EndlessPlayback {
		loop = 0
	}
	lang := a.Language
	if lang == "" {
		lang = x.Vars.Language("en-US") // the language block's, if any
	}
	err := x.Call.Say(ctx, call.SayOptions{Text: a.Text, Voice: a.Voice, Language: lang, Loop: loop, Terminators: keys(a.Terminators)})
	return "_", err
}

var _ engine.Action = (*TTS)(nil)
