package sip

import (
	"log/slog"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
)

// dialRecording is the recording of a Dial's bridged call (TwiML <Dial
// record>): the caller's track from the ringing or the answer on, the
// callee's from the bridge. A nil one records nothing.
type dialRecording struct {
	r *media.CallRecording
}

// mediaOf is the media session under a leg's, when it is a real one
// (the SIP tests' fake sessions record nothing).
func mediaOf(ms MediaSession) (*media.Session, bool) {
	rs, ok := ms.(realSession)
	return rs.Session, ok && rs.Session != nil
}

// startDialRecording starts recording the caller when the Dial asks for a
// recording and now is the time (from ringing, or at the bridge); nil
// otherwise.
func (l *inLeg) startDialRecording(o call.DialOptions, now bool) *dialRecording {
	if !o.Record || !now {
		return nil
	}
	s, ok := mediaOf(l.sess)
	if !ok {
		return nil
	}
	limit := o.TimeLimit
	if limit <= 0 {
		limit = media.DefaultMaxRecording
	}
	r, err := s.StartCallRecording(media.CallRecordingOptions{Dual: o.RecordDual, TimeLimit: limit})
	if err != nil {
		l.log.Warn("dial: recording not started", "err", err)
		return nil
	}
	return &dialRecording{r: r}
}

// add records the leg that won the Dial.
func (d *dialRecording) add(b *outLeg) {
	if d == nil {
		return
	}
	if s, ok := mediaOf(b.sess); ok {
		if err := d.r.Add(s); err != nil {
			b.log.Warn("dial: callee not recorded", "err", err)
		}
	}
}

// discard drops the recording of a Dial that was not bridged.
func (d *dialRecording) discard() {
	if d != nil {
		d.r.Discard()
	}
}

// stop ends the recording and returns it; nil when there is none or it
// failed (logged).
func (d *dialRecording) stop(log *slog.Logger) *call.Recording {
	if d == nil {
		return nil
	}
	rec, err := d.r.Stop()
	if err != nil {
		log.Warn("dial: recording failed", "err", err)
		return nil
	}
	return &rec
}
