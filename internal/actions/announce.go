package actions

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

// announcement is something the caller hears from a module's own prompts
// (a menu's greeting, disa's "enter your PIN"): a media id or URL, or else a
// text spoken in the call's language.
type announcement struct {
	media, text     string
	voice, language string
}

// prompt is the announcement as a call.Prompt; nil when it has neither
// media nor text.
func (a announcement) prompt(x *engine.Exec) *call.Prompt {
	switch {
	case a.media != "":
		url, id := mediaURL(a.media)
		return &call.Prompt{Play: &call.PlayOptions{URL: url, MediaID: id, Loop: 1, Terminators: allKeys}}
	case a.text != "":
		voice := a.voice
		if voice == "" {
			voice = "female"
		}
		lang := a.language
		if lang == "" {
			lang = x.Vars.Language("en-US")
		}
		return &call.Prompt{Say: &call.SayOptions{Text: a.text, Voice: voice, Language: lang, Loop: 1, Terminators: allKeys}}
	}
	return nil
}

// prompts is the announcement as the Prompts of a Gather.
func (a announcement) prompts(x *engine.Exec) []call.Prompt {
	if p := a.prompt(x); p != nil {
		return []call.Prompt{*p}
	}
	return nil
}

// play plays or says the announcement; nothing when it is empty.
func (a announcement) play(ctx context.Context, x *engine.Exec) error {
	p := a.prompt(x)
	switch {
	case p == nil:
		return nil
	case p.Play != nil:
		return x.Call.Play(ctx, *p.Play)
	}
	return x.Call.Say(ctx, *p.Say)
}

// traceBranch writes the "branch" line of a module that chose a child:
// key is the child key chosen (the engine falls back to "_" when the node
// has no such child), kv adds what the choice was made on.
func traceBranch(x *engine.Exec, key string, kv ...any) {
	x.Trace.Add("branch", append([]any{"key", key, "module", x.Node.Module, "node", x.Node.Path}, kv...)...)
}

// defaultCollectTimeout is Kazoo's default_collect_timeout: the wait for
// a first key.
const defaultCollectTimeout = 5 * time.Second

// defaultInterdigit is Kazoo's default_interdigit_timeout.
const defaultInterdigit = 2 * time.Second
