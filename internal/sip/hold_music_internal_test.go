package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
)

// playSession is a held leg's media session: Play of a media id in
// missing fails as a deleted media does; anything else plays until its
// context ends. Only Play is called.
type playSession struct {
	MediaSession
	missing string
	playing chan call.PlayOptions
}

func (p *playSession) Play(ctx context.Context, o call.PlayOptions) error {
	if o.MediaID != "" && o.MediaID == p.missing {
		return fmt.Errorf("media %s: %w", o.MediaID, media.ErrNotFound)
	}
	p.playing <- o
	<-ctx.Done()
	return ctx.Err()
}

// accountMusicFunc is an AccountMusic.
type accountMusicFunc func(ctx context.Context, accountID string) (string, error)

func (f accountMusicFunc) AccountMusicOnHold(ctx context.Context, accountID string) (string, error) {
	return f(ctx, accountID)
}

type toldWarning struct{ code, message string }

func holdBridge(t *testing.T, acct AccountMusic) (*bridging, func() []toldWarning) {
	var (
		mu   sync.Mutex
		told []toldWarning
	)
	l := &inLeg{info: call.Info{AccountID: "acct-1"}}
	l.log = slog.New(slog.DiscardHandler)
	br := &bridging{s: &Server{accountMusic: acct}, caller: l, ctx: t.Context(),
		onWarning: func(code, message string) {
			mu.Lock()
			told = append(told, toldWarning{code, message})
			mu.Unlock()
		}}
	return br, func() []toldWarning {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(told)
	}
}

// TestHoldMusicFallsBack: no dead air on hold. Music on hold whose media
// is gone plays the built-in hold music instead, and the Dial (its trace)
// is told with a warning naming the media; playable music plays with no
// warning. An account setting that cannot be read gives the built-in
// music with a warning; no setting anywhere gives none (the relay goes on).
func TestHoldMusicFallsBack(t *testing.T) {
	for _, tc := range []struct {
		name     string
		media    string
		wantPlay call.PlayOptions
		wantWarn string
	}{
		{"deleted media", "gone", call.PlayOptions{URL: "builtin:hold-music"}, warnMusicUnplayable},
		{"playable media", "fine", call.PlayOptions{MediaID: "fine"}, ""},
		{"built-in", builtinHoldMusic, call.PlayOptions{URL: "builtin:hold-music"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br, told := holdBridge(t, nil)
			held := &playSession{missing: "gone", playing: make(chan call.PlayOptions, 1)}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- br.playHold(ctx, held, tc.media) }()
			if got := <-held.playing; got != tc.wantPlay {
				t.Errorf("played %+v, want %+v", got, tc.wantPlay)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("playHold: %v", err)
			}
			w := told()
			switch {
			case tc.wantWarn == "" && len(w) != 0:
				t.Errorf("warnings %v, want none", w)
			case tc.wantWarn != "" && (len(w) != 1 || w[0].code != tc.wantWarn || !containsAll(w[0].message, tc.media, "built-in")):
				t.Errorf("warnings %v, want one %s naming %s", w, tc.wantWarn, tc.media)
			}
		})
	}

	t.Run("account setting unreadable", func(t *testing.T) {
		br, told := holdBridge(t, accountMusicFunc(func(context.Context, string) (string, error) {
			return "", errors.New("database is locked")
		}))
		if m := br.musicOf(""); m != builtinHoldMusic {
			t.Errorf("music %q, want the built-in", m)
		}
		if m := br.musicOf("own"); m != "own" {
			t.Errorf("the phone's own music: %q", m)
		}
		if w := told(); len(w) != 1 || w[0].code != warnMusicUnknown {
			t.Errorf("warnings %v", w)
		}
	})
	t.Run("no music anywhere", func(t *testing.T) {
		br, told := holdBridge(t, accountMusicFunc(func(context.Context, string) (string, error) { return "", nil }))
		if m := br.musicOf(""); m != "" {
			t.Errorf("music %q, want none", m)
		}
		if w := told(); len(w) != 0 {
			t.Errorf("warnings %v", w)
		}
	})
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
