package sip

import (
	"context"
	"fmt"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/media/sdp"
)

// Hold passes through a bridge: when one leg's far end puts the call on
// hold (a re-INVITE or UPDATE offering sendonly or inactive), the other
// leg is told with a re-INVITE of ours offering sendonly, so it stops
// sending into a call nobody hears and its phone shows the hold; resuming
// (sendrecv) is passed on the same way. Each leg's own media session still
// answers its offers, so a new address or port re-points the relay at
// once. When the held party is to hear music on hold (hold_music.go) the
// hold is not passed on: its leg stays sendrecv, as Asterisk and
// FreeSWITCH keep it, since a phone told it is held may stop playing what
// it receives (baresip 1.0 does).

// holder is a media session that can put its far end on hold in its next
// offer (*media.Session).
type holder interface{ Hold(on bool) }

// holdPass is the negotiator of a bridged leg: its media answers the
// offer, and the bridge learns whether the far end now holds the call.
type holdPass struct {
	own MediaSession
	leg *dialog
	br  *bridging
}

// Update answers an offer with the leg's media, then tells the bridge.
// The dialog's lock is held: the re-INVITE to the other leg is sent by
// the bridge's hold loop, not here.
func (h holdPass) Update(offer []byte) ([]byte, error) {
	answer, err := h.own.Update(offer)
	if err != nil {
		return nil, err
	}
	h.br.offered(h.leg, offerHolds(offer))
	return answer, nil
}

// SetAnswer takes an answer to the leg's own offer.
func (h holdPass) SetAnswer(answer []byte) error { return h.own.SetAnswer(answer) }

var _ negotiator = holdPass{}

// offerHolds reports whether an SDP offer puts its receiver on hold: its
// audio is sendonly or inactive, or its address is 0.0.0.0 (RFC 2543).
func offerHolds(offer []byte) bool {
	d, err := sdp.Parse(offer)
	if err != nil {
		return false
	}
	ch, err := d.Select()
	if err != nil {
		return false
	}
	return !ch.Direction.Receives() || ch.Media.Addr.IsValid() && ch.Media.Addr.IsUnspecified()
}

// passOffers makes the bridge see d's offers.
func (br *bridging) passOffers(d *dialog, own MediaSession) {
	d.mu.Lock()
	d.offers = holdPass{own: own, leg: d, br: br}
	d.mu.Unlock()
}

// restoreOffers gives d its own media as negotiator again.
func (br *bridging) restoreOffers(d *dialog, own MediaSession) {
	d.mu.Lock()
	if hp, ok := d.offers.(holdPass); ok && hp.br == br {
		d.offers = own
	}
	d.mu.Unlock()
}

// offered records whether d's far end holds the call now.
func (br *bridging) offered(d *dialog, holds bool) {
	br.mu.Lock()
	was := br.heldBy[d]
	br.heldBy[d] = holds
	br.mu.Unlock()
	if was != holds {
		d.log.Info("far end hold changed", "held", holds)
		br.changed()
	}
}

// changed wakes the hold loop, and the relay (music on hold).
func (br *bridging) changed() {
	select {
	case br.kick <- struct{}{}:
	default:
	}
	select {
	case br.remode <- struct{}{}:
	default:
	}
}

// holdLoop tells each leg whether the other holds the call, one
// re-INVITE at a time, until the bridge ends.
func (br *bridging) holdLoop() {
	for {
		select {
		case <-br.ctx.Done():
			return
		case <-br.kick:
		}
		br.reconcile()
	}
}

// sideOf is a leg of the bridge as the hold loop sees it.
type sideOf struct {
	d    *dialog
	sess MediaSession
}

// reconcile sends a re-INVITE to every leg whose hold state differs from
// what its peer asks. A refused or failed re-INVITE (491 glare, a
// timeout) is tried again once, a moment later.
func (br *bridging) reconcile() {
	br.mu.Lock()
	c := br.callee
	br.mu.Unlock()
	if c == nil {
		return
	}
	l := br.caller
	sides := [2]sideOf{{&l.dialog, l.sess}, {&c.dialog, c.sess}}
	music := [2]string{l.moh, c.moh} // each side's phone's own
	for i, side := range sides {
		peer := sides[1-i]
		for attempt := 0; attempt < 2; attempt++ {
			br.mu.Lock()
			want, told := br.heldBy[peer.d], br.told[side.d]
			br.mu.Unlock()
			if want && br.musicOf(music[1-i]) != "" {
				want = false // it hears the holder's music on hold instead
			}
			if want == told {
				break
			}
			err := br.tellHold(side, want)
			if err == nil {
				br.mu.Lock()
				br.told[side.d] = want
				br.mu.Unlock()
				break
			}
			side.d.log.Info("hold not passed on", "held", want, "err", err)
			t := time.NewTimer(time.Second + time.Duration(attempt)*time.Second)
			select {
			case <-br.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// tellHold puts side's far end on hold, or takes it off, with a re-INVITE
// carrying our new offer.
func (br *bridging) tellHold(side sideOf, on bool) error {
	if h, ok := side.sess.(holder); ok {
		h.Hold(on)
	}
	offer := side.sess.Offer()
	ctx, cancel := context.WithTimeout(br.ctx, refreshTimeout)
	defer cancel()
	res, err := side.d.reinvite(ctx, offer)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("re-INVITE answered %d", res.StatusCode)
	}
	if body := res.Body(); len(body) > 0 {
		if err := side.sess.SetAnswer(body); err != nil {
			return fmt.Errorf("answer to the hold re-INVITE: %w", err)
		}
	}
	side.d.log.Debug("hold passed on", "held", on)
	return nil
}

// reinvite sends a re-INVITE with offer in the dialog, ACKs its 2xx and
// returns the final response; the offer becomes our current SDP.
func (d *dialog) reinvite(ctx context.Context, offer []byte) (*sipmsg.Response, error) {
	req := d.newRequest(sipmsg.INVITE)
	req.AppendHeader(sipmsg.NewHeader("Allow", allowed))
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	res, err := d.s.do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("re-INVITE: %w", err)
	}
	if res.IsSuccess() {
		if err := d.s.client.WriteRequest(d.ackFor(req)); err != nil {
			d.log.Debug("ACK of the re-INVITE not sent", "err", err)
		}
		d.mu.Lock()
		d.sdp = offer
		d.mu.Unlock()
	}
	return res, nil
}
