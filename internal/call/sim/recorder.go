package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

var _ call.CallRecorder = (*Channel)(nil)

// callRecording is a recording of the call started by StartRecording.
type callRecording struct {
	opts  call.CallRecordingOptions
	start time.Time
}

// StartRecording starts recording the call (an Op "record_call" with the
// options); a recording already running is left as it is.
func (c *Channel) StartRecording(ctx context.Context, o call.CallRecordingOptions) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.checkLocked(ctx, "record_call")
	if err == nil && c.callRec == nil {
		c.callRec = &callRecording{opts: o, start: c.clock.Now()}
	}
	c.addLocked(Op{Name: "record_call", Options: o, Err: err})
	return err
}

// StopRecording stops the recording and returns it: as long as the
// simulated time since StartRecording (TimeLimit at most), at
// sim://recordings/<call id>/call-<n>.<format>. It works after the caller
// hung up too, as the recording of a real call is kept then.
func (c *Channel) StopRecording(context.Context) (call.Recording, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.callRec == nil {
		err := fmt.Errorf("record_call: %w", call.ErrNotRecording)
		c.addLocked(Op{Name: "record_call", Result: call.Recording{}, Err: err})
		return call.Recording{}, err
	}
	r := c.callRec
	c.callRec = nil
	d := c.clock.Now().Sub(r.start)
	if r.opts.TimeLimit > 0 && d > r.opts.TimeLimit {
		d = r.opts.TimeLimit
	}
	c.recordings++
	id := c.info.ID
	if id == "" {
		id = "sim"
	}
	format := r.opts.Format
	if format == "" {
		format = "mp3"
	}
	rec := call.Recording{URL: fmt.Sprintf("sim://recordings/%s/call-%d.%s", id, c.recordings, format), Duration: d}
	c.addLocked(Op{Name: "record_call", Result: rec})
	return rec, nil
}

// Recording reports whether a recording of the call runs.
func (c *Channel) Recording() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callRec != nil
}
