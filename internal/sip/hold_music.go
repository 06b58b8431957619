package sip

import (
	"context"
	"strings"

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
//
// No dead air: music that cannot be played (its media deleted with
// ?force=true, its audio gone) and an account setting that cannot be read
// give the built-in hold music instead, with a warning in the log and in
// the call's trace (the Dial's OnWarning).

// builtinHoldMusic is what a held party hears when its configured music
// cannot be played.
const builtinHoldMusic = "builtin:hold-music"

// Warning codes of the trace's warning lines about music on hold.
const (
	warnMusicUnplayable = "music_on_hold_unplayable"
	warnMusicUnknown    = "music_on_hold_unknown"
)

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
// read gives the built-in hold music: the holder may have set some.
func (br *bridging) musicOf(own string) string {
	if own != "" || br.s.accountMusic == nil {
		return own
	}
	m, err := br.s.accountMusic.AccountMusicOnHold(br.ctx, br.caller.info.AccountID)
	if err != nil {
		br.caller.log.Warn("account music on hold unknown: the built-in plays", "err", err)
		br.warn(warnMusicUnknown, "the account's music on hold could not be read ("+err.Error()+"): the built-in hold music plays")
		return builtinHoldMusic
	}
	return m
}

// playHold plays media on held, looping, until ctx ends (the hold states
// changed, a party left). Media that cannot be played gives the built-in
// hold music, with a warning.
func (br *bridging) playHold(ctx context.Context, held MediaSession, media string) error {
	br.caller.log.Info("music on hold", "media_id", media)
	err := held.Play(ctx, holdPlay(media))
	if err != nil && ctx.Err() == nil && media != builtinHoldMusic {
		br.caller.log.Warn("music on hold not played: the built-in plays", "media_id", media, "err", err)
		br.warn(warnMusicUnplayable, "music on hold "+media+" could not be played ("+err.Error()+"): the built-in hold music plays instead")
		err = held.Play(ctx, holdPlay(builtinHoldMusic))
	}
	if err != nil && ctx.Err() == nil {
		br.caller.log.Warn("music on hold not played", "media_id", media, "err", err)
	}
	br.caller.log.Debug("music on hold ended", "media_id", media, "err", err)
	<-ctx.Done()
	return nil
}

// holdPlay plays a media document by id, or a built-in sound, until the
// context ends.
func holdPlay(media string) call.PlayOptions {
	if strings.HasPrefix(media, "builtin:") {
		return call.PlayOptions{URL: media, Loop: 0}
	}
	return call.PlayOptions{MediaID: media, Loop: 0}
}

// warn tells the Dial (its trace) of a failure the bridge handled.
func (br *bridging) warn(code, message string) {
	if br.onWarning != nil {
		br.onWarning(code, message)
	}
}
