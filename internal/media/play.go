package media

import (
	"context"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/dtmf"
	"github.com/switchboard/switchboard/internal/media/tts"
)

// maxLoops caps Loop, and is what Loop 0 ("until stopped") means.
const maxLoops = 1000

// allKeys stops a prompt on any key (barge-in).
const allKeys = dtmf.Digits

func plays(loop int) int {
	switch {
	case loop == 0:
		return maxLoops
	case loop < 0:
		return 1
	}
	return min(loop, maxLoops)
}

// Play plays audio: o.MediaID or o.URL (http(s) URL, file path,
// "media:<id>" for the account's DataDir/media/<account>/<id>.wav,
// "recording:<name>" for one of the call's account's recordings,
// "builtin:beep", "builtin:hold-music"), o.Loop times (0 = until ctx ends, at most 1000).
// A key in o.Terminators stops it and stays queued for a following
// Gather; so does one pressed before Play began. With o.Digits it sends
// those keys instead (RFC 4733 events, or tones when the far end did not
// negotiate telephone-event; 'w' waits half a second).
func (s *Session) Play(ctx context.Context, o call.PlayOptions) error {
	if err := s.ready(); err != nil {
		return err
	}
	if o.Digits != "" {
		return s.SendDigits(ctx, o.Digits)
	}
	p, err := s.m.loadPlay(ctx, s.accountID, o)
	if err != nil {
		return err
	}
	return s.playPrompt(ctx, p, plays(o.Loop), normKeys(o.Terminators))
}

// Say speaks text with the TTS engine (cached by engine, voice, language,
// text). Voices: man/male → a male voice; woman/female/alice/Polly.*/
// Google.* → a female one; anything else → the default. A language flite
// cannot speak goes to espeak-ng when installed. Loop and Terminators are
// as for Play.
func (s *Session) Say(ctx context.Context, o call.SayOptions) error {
	if err := s.ready(); err != nil {
		return err
	}
	p, err := s.loadSay(ctx, o)
	if err != nil || p == nil {
		return err
	}
	return s.playPrompt(ctx, p, plays(o.Loop), normKeys(o.Terminators))
}

func (s *Session) loadSay(ctx context.Context, o call.SayOptions) (*prompt, error) {
	if strings.TrimSpace(o.Text) == "" {
		return nil, nil
	}
	if s.m.tts == nil {
		return nil, ErrNoTTS
	}
	path, err := s.m.tts.Speak(ctx, tts.Request{Text: o.Text, Voice: o.Voice, Language: o.Language})
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	return s.m.loadFile(ctx, path)
}

// Pause sends silence for d.
func (s *Session) Pause(ctx context.Context, d time.Duration) error {
	if err := s.ready(); err != nil {
		return err
	}
	return s.pause(ctx, d, "")
}

func (s *Session) pause(ctx context.Context, d time.Duration, stopKeys string) error {
	s.setOutput(nil)
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		var keyCh <-chan struct{}
		if stopKeys != "" {
			keyCh = s.digits.watch()
			if s.digits.has(stopKeys) {
				return nil
			}
		}
		select {
		case <-t.C:
			return nil
		case <-keyCh:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-s.done:
			return ErrClosed
		}
	}
}

// SendDigits sends keys as RFC 4733 events ('w' waits 0.5 s), or as
// in-band tones when the far end did not negotiate telephone-event.
func (s *Session) SendDigits(ctx context.Context, digits string) error {
	if err := s.ready(); err != nil {
		return err
	}
	var keys strings.Builder
	for i := range len(digits) {
		d := digits[i]
		if d >= 'a' && d <= 'd' {
			d -= 'a' - 'A'
		}
		if d == 'w' || d == 'W' || dtmf.Valid(d) {
			keys.WriteByte(d)
		}
	}
	if keys.Len() == 0 {
		return nil
	}
	s.mu.Lock()
	hasTE, c := s.neg.hasTE, s.neg.codec
	s.mu.Unlock()
	var out *output
	if hasTE {
		out = newDigitsOutput(keys.String())
	} else {
		out = newAudioOutput(c, c.EncodeFrames(digitTones(keys.String())), 1)
	}
	s.setOutput(out)
	return s.waitOutput(ctx, out, "")
}

// digitTones is in-band DTMF: 100 ms of each key's tones, 100 ms apart.
func digitTones(keys string) []int16 {
	var pcm []int16
	for i := range len(keys) {
		if keys[i] == 'w' || keys[i] == 'W' {
			pcm = append(pcm, make([]int16, codec.Rate/2)...)
			continue
		}
		pcm = append(pcm, dtmf.Tone(keys[i], codec.Rate/10, codec.Rate, 6000)...)
		pcm = append(pcm, make([]int16, codec.Rate/10)...)
	}
	return pcm
}

// playPrompt sends p, n times, until a key in stopKeys is queued.
func (s *Session) playPrompt(ctx context.Context, p *prompt, n int, stopKeys string) error {
	if stopKeys != "" && s.digits.has(stopKeys) {
		return nil // typed ahead
	}
	s.mu.Lock()
	c := s.neg.codec
	s.mu.Unlock()
	out := newAudioOutput(c, p.frames(c), n)
	s.setOutput(out)
	return s.waitOutput(ctx, out, stopKeys)
}

// waitOutput waits until out is sent, a key in stopKeys is queued, ctx
// ends or the session closes; the output stops in all but the first case.
func (s *Session) waitOutput(ctx context.Context, out *output, stopKeys string) error {
	for {
		var keyCh <-chan struct{}
		if stopKeys != "" {
			keyCh = s.digits.watch()
			if s.digits.has(stopKeys) {
				s.stopOutput(out)
				return nil
			}
		}
		select {
		case <-out.done:
			select {
			case <-s.done:
				return ErrClosed
			default:
				return nil
			}
		case <-keyCh:
		case <-ctx.Done():
			s.stopOutput(out)
			return context.Cause(ctx)
		case <-s.done:
			return ErrClosed
		}
	}
}
