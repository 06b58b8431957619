package media

import (
	"context"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// DefaultGatherTimeout is Gather's wait when GatherOptions.Timeout is 0.
const DefaultGatherTimeout = 5 * time.Second

// Gather plays the prompts (a digit stops them and counts) and collects
// digits: it ends after NumDigits digits, on a FinishOnKey key (not
// included), or when no digit comes for Timeout (before the first) or
// InterDigitTimeout (between digits; Timeout when 0). "" with a nil error
// means nothing was pressed. When ctx ends it returns what it has and the
// context's cause. Keys pressed before Gather (type-ahead) count.
func (s *Session) Gather(ctx context.Context, o call.GatherOptions) (string, error) {
	if err := s.ready(); err != nil {
		return "", err
	}
	s.gathering.Add(1)
	defer s.gathering.Add(-1)
	for _, p := range o.Prompts {
		if s.digits.len() > 0 {
			break
		}
		var err error
		switch {
		case p.Say != nil:
			var pr *prompt
			if pr, err = s.loadSay(ctx, *p.Say); err == nil && pr != nil {
				err = s.playPrompt(ctx, pr, plays(p.Say.Loop), allKeys)
			}
		case p.Play != nil:
			if p.Play.Digits != "" {
				err = s.SendDigits(ctx, p.Play.Digits)
				break
			}
			var pr *prompt
			if pr, err = s.m.loadPlay(ctx, s.accountID, *p.Play); err == nil {
				err = s.playPrompt(ctx, pr, plays(p.Play.Loop), allKeys)
			}
		case p.Pause > 0:
			err = s.pause(ctx, p.Pause, allKeys)
		}
		if err != nil {
			if ctx.Err() != nil || err == ErrClosed {
				return "", err
			}
			s.logger().Warn("gather prompt failed", "err", err)
			if o.Result != nil {
				o.Result.PromptErrors = append(o.Result.PromptErrors, err)
			}
		}
	}
	first := o.Timeout
	if first <= 0 {
		first = DefaultGatherTimeout
	}
	between := o.InterDigitTimeout
	if between <= 0 {
		between = first
	}
	finish := normKeys(o.FinishOnKey)
	var got []byte
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		ch := s.digits.watch()
		for {
			d, ok := s.digits.pop()
			if !ok {
				break
			}
			if strings.IndexByte(finish, d) >= 0 {
				if o.Result != nil {
					o.Result.FinishedOnKey = string(d)
				}
				return string(got), nil
			}
			got = append(got, d)
			if o.NumDigits > 0 && len(got) >= o.NumDigits {
				return string(got), nil
			}
			timer.Reset(between)
		}
		select {
		case <-ch:
		case <-timer.C:
			return string(got), nil
		case <-ctx.Done():
			return string(got), context.Cause(ctx)
		case <-s.done:
			return string(got), ErrClosed
		}
	}
}
