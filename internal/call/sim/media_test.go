package sim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

// TestWithMedia: a stored media id plays as long as its audio, and one the
// library does not hold fails the play as on a real call; URLs are
// untouched.
func TestWithMedia(t *testing.T) {
	errMissing := errors.New("no such media")
	start := time.Date(2030, 5, 6, 7, 0, 0, 0, time.UTC)
	ctx, ch := sim.New(t.Context(), info, sim.Script{}, sim.WithClock(start),
		sim.WithMedia(func(id string) (time.Duration, error) {
			if id == "m1" {
				return 3 * time.Second, nil
			}
			return 0, errMissing
		}))
	for _, c := range []struct {
		name string
		o    call.PlayOptions
		want time.Duration
		err  error
	}{
		{"stored", call.PlayOptions{MediaID: "m1", Loop: 2}, 6 * time.Second, nil},
		{"missing", call.PlayOptions{MediaID: "m2", Loop: 1}, 0, errMissing},
		{"url", call.PlayOptions{URL: "https://example.com/a.wav", Loop: 1}, time.Second, nil},
	} {
		before := ch.Clock().Now()
		err := ch.Play(ctx, c.o)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
		if got := ch.Clock().Now().Sub(before); got < c.want || got > c.want+100*time.Millisecond { // the clock also follows real time
			t.Errorf("%s: played %v, want %v", c.name, got, c.want)
		}
	}
}
