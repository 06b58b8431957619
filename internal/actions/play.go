package actions

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func init() {
	engine.Register(engine.Spec{
		Name: "play", Group: "Basic", Label: "Play media", Icon: "play",
		Doc:    "Play an audio file to the caller.",
		Schema: schema("play"), Branches: []string{"_"},
		New: func() engine.Action { return new(Play) },
	})
}

// Play plays a media (Kazoo's play module).
type Play struct {
	// ID is a stored media id or an http(s) URL.
	ID string `json:"id"`
	// Answer answers before playing; otherwise an unanswered call hears it
	// as early media.
	Answer bool `json:"answer,omitempty"`
	// LoopCount is how many times to play.
	LoopCount int `json:"loop_count,omitempty"`
	// EndlessPlayback repeats until a key or a hangup.
	EndlessPlayback bool `json:"endless_playback,omitempty"`
	// Terminators are keys that stop the audio.
	Terminators []string `json:"terminators,omitempty"`
}

// Exec plays the media.
func (a *Play) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	if a.Answer {
		if err := x.Call.Answer(ctx); err != nil {
			return "", err
		}
	}
	loop := max(a.LoopCount, 1)
	if a.EndlessPlayback {
		loop = 0
	}
	url, id := mediaURL(a.ID)
	err := x.Call.Play(ctx, call.PlayOptions{URL: url, MediaID: id, Loop: loop, Terminators: keys(a.Terminators)})
	return "_", err
}

var _ engine.Action = (*Play)(nil)
