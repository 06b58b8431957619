package sip

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
)

// Music on hold: while one party of a bridge holds the call (its last
// offer was sendonly or inactive) and the other does not, the held party
// hears the holder's music on hold — its phone's music_on_hold.media_id
// (Device.MusicOnHold: the device's, else its owner's) played on the held
// leg's media session while the relay is paused — instead of the
// silence the relay fills in. Resuming stops it and relays again. With
// no media id, or when both hold, the relay carries on (silence).

// holdMusic is the session to play music on hold to and the media id,
// for the hold states of the moment; nil when the call is to be relayed.
func (br *bridging) holdMusic(cur *outLeg) (MediaSession, string) {
	l := br.caller
	br.mu.Lock()
	callerHolds, calleeHolds := br.heldBy[&l.dialog], br.heldBy[&cur.dialog]
	br.mu.Unlock()
	switch {
	case callerHolds && !calleeHolds && l.moh != "":
		return cur.sess, l.moh
	case calleeHolds && !callerHolds && cur.moh != "":
		return l.sess, cur.moh
	}
	return nil, ""
}

// playHold plays media on held, looping, until ctx ends (the hold states
// changed, a party left). Media that cannot be played leaves silence:
// the call goes on.
func (br *bridging) playHold(ctx context.Context, held MediaSession, media string) error {
	br.caller.log.Info("music on hold", "media_id", media)
	err := held.Play(ctx, call.PlayOptions{MediaID: media, Loop: 0})
	if err != nil && ctx.Err() == nil {
		br.caller.log.Warn("music on hold not played", "media_id", media, "err", err)
	}
	br.caller.log.Debug("music on hold ended", "media_id", media, "err", err)
	<-ctx.Done()
	return nil
}
