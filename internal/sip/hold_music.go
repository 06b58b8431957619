package sip

import (
	"context"

	"github.com/switchboard/switchboard/internal/call"
)

// Music on hold: while one party of a bridge holds the call (its last
// offer was sendonly or inactive) and the other does not, the held party
// hears the holder's music on hold played on the held leg's media session
// while the relay is paused, instead of the silence the relay fills in:
// its phone's music_on_hold.media_id (Device.MusicOnHold: the device's,
// else its owner's), else its account's (AccountMusic; also for a holder
// that is no phone, a trunk's caller). Resuming stops it and relays again.
// With no media id anywhere, or when both hold, the relay carries on
// (silence). A held party that hears music is not told of the hold
// (hold.go): its leg stays sendrecv.

// AccountMusic gives an account's music on hold (Kazoo's account
// music_on_hold.media_id). The server implements it over the store.
type AccountMusic interface {
	// AccountMusicOnHold is the account's media id, "" when none.
	AccountMusicOnHold(ctx context.Context, accountID string) (string, error)
}

// SetAccountMusic sets where an account's music on hold is found; call it
// before Start. Without it only phones' own music on hold plays.
func (s *Server) SetAccountMusic(m AccountMusic) { s.accountMusic = m }

// holdMusic is the session to play music on hold to and the media id,
// for the hold states of the moment; nil when the call is to be relayed.
func (br *bridging) holdMusic(cur *outLeg) (MediaSession, string) {
	l := br.caller
	br.mu.Lock()
	callerHolds, calleeHolds := br.heldBy[&l.dialog], br.heldBy[&cur.dialog]
	br.mu.Unlock()
	switch {
	case callerHolds && !calleeHolds:
		if m := br.musicOf(l.moh); m != "" {
			return cur.sess, m
		}
	case calleeHolds && !callerHolds:
		if m := br.musicOf(cur.moh); m != "" {
			return l.sess, m
		}
	}
	return nil, ""
}

// musicOf is a holder's music on hold: its phone's (own), else the
// call's account's; "" when neither names one. A store that cannot be
// read leaves silence: the call goes on.
func (br *bridging) musicOf(own string) string {
	if own != "" || br.s.accountMusic == nil {
		return own
	}
	m, err := br.s.accountMusic.AccountMusicOnHold(br.ctx, br.caller.info.AccountID)
	if err != nil {
		br.caller.log.Warn("account music on hold unknown", "err", err)
		return ""
	}
	return m
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
