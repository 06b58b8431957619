package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
)

var _ call.CallRecorder = (*inLeg)(nil)

// callRecord is record_call's recording of a SIP call: the caller's
// audio, and the audio of every leg the call is bridged to while it
// runs, mixed into one file. It ends at StopRecording, at its time limit
// or with the call; its Done then gets the file.
type callRecord struct {
	mu    sync.Mutex
	r     *media.CallRecording
	o     call.CallRecordingOptions
	gen   uint64 // which recording the timers below belong to
	stops []func() bool
	peer  MediaSession // the leg the call is bridged to, if any
}

// StartRecording is call.CallRecorder: it starts recording the call,
// both parties; a recording already running is left as it is.
func (l *inLeg) StartRecording(ctx context.Context, o call.CallRecordingOptions) error {
	if err := l.goneErr("record_call"); err != nil {
		return err
	}
	s, ok := mediaOf(l.sess)
	if !ok {
		return errors.New("record_call: this call's media cannot be recorded")
	}
	c := &l.recording
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r != nil {
		return nil
	}
	limit := o.TimeLimit
	if limit <= 0 {
		limit = media.DefaultMaxRecording
	}
	r, err := s.StartCallRecording(media.CallRecordingOptions{TimeLimit: limit})
	if err != nil {
		return fmt.Errorf("record_call: %w", err)
	}
	if c.peer != nil {
		if ps, ok := mediaOf(c.peer); ok {
			if err := r.Add(ps); err != nil {
				l.log.Warn("record_call: bridged leg not recorded", "err", err)
			}
		}
	}
	c.gen++
	gen := c.gen
	c.r, c.o = r, o
	c.stops = []func() bool{
		time.AfterFunc(limit, func() { l.finishRecording(gen, false) }).Stop,
		context.AfterFunc(l.ctx, func() { l.finishRecording(gen, false) }),
	}
	return nil
}

// StopRecording is call.CallRecorder: it stops the running recording and
// returns it.
func (l *inLeg) StopRecording(context.Context) (call.Recording, error) {
	c := &l.recording
	c.mu.Lock()
	gen, running := c.gen, c.r != nil
	c.mu.Unlock()
	if !running {
		return call.Recording{}, fmt.Errorf("record_call: %w", call.ErrNotRecording)
	}
	rec, ok, err := l.finishRecording(gen, true)
	if !ok {
		return call.Recording{}, fmt.Errorf("record_call: %w", call.ErrNotRecording)
	}
	return rec, err
}

// finishRecording ends recording gen if it still runs, writes the file
// and hands it to the options' Done: in a goroutine of the server when
// the flow waits (async: StopRecording), else at once (the time limit's
// and the call end's callbacks run on their own goroutines already). ok
// is false when it had ended already.
func (l *inLeg) finishRecording(gen uint64, async bool) (rec call.Recording, ok bool, err error) {
	c := &l.recording
	c.mu.Lock()
	if c.r == nil || c.gen != gen {
		c.mu.Unlock()
		return call.Recording{}, false, nil
	}
	r, o, stops := c.r, c.o, c.stops
	c.r, c.stops = nil, nil
	c.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	rec, err = r.Stop()
	if err != nil {
		l.log.Warn("record_call: recording failed", "err", err)
	}
	switch {
	case o.Done == nil:
	case async:
		l.s.wg.Go(func() { o.Done(rec, err) })
	default:
		o.Done(rec, err)
	}
	return rec, true, err
}

// recordBridged adds a leg the call is bridged to to a running
// record_call recording (and to one started later, until unbridged).
func (l *inLeg) recordBridged(peer MediaSession) (unbridged func()) {
	c := &l.recording
	c.mu.Lock()
	defer c.mu.Unlock()
	c.peer = peer
	if c.r != nil {
		if ps, ok := mediaOf(peer); ok {
			if err := c.r.Add(ps); err != nil {
				l.log.Warn("record_call: bridged leg not recorded", "err", err)
			}
		}
	}
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.peer == peer {
			c.peer = nil
		}
	}
}
