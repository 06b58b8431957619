package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/pivot"
)

func init() {
	engine.Register(engine.Spec{
		Name: "record_call", Group: "Advanced", Label: "Record call", Icon: "record",
		Doc:    "Start or stop recording the rest of the call.",
		Schema: schema("record_call"), Branches: []string{"_"},
		New: func() engine.Action { return new(RecordCall) },
	})
}

// RecordCall starts or stops a recording of the rest of the call, both
// parties, in the background (Kazoo's record_call). It needs a channel that
// implements call.CallRecorder; on one that does not, it writes an error
// line and goes on.
type RecordCall struct {
	Action string `json:"action"`
	// Format is mp3 or wav.
	Format string `json:"format,omitempty"`
	// URL receives the file when the recording ends (HTTP PUT or POST).
	URL    string `json:"url,omitempty"`
	Method string `json:"method,omitempty"`
	// TimeLimit is the longest recording, in seconds.
	TimeLimit int    `json:"time_limit,omitempty"`
	Label     string `json:"label,omitempty"`
	// Kazoo's other options are kept; Switchboard records from the block
	// on, answered or not, and keeps every recording.
	RecordOnAnswer bool `json:"record_on_answer,omitempty"`
	RecordOnBridge bool `json:"record_on_bridge,omitempty"`
	RecordMinSec   int  `json:"record_min_sec,omitempty"`
}

var errNoRecorder = errors.New("this call cannot be recorded in the background")

// Exec starts or stops the recording and writes a "record_call" line.
func (a *RecordCall) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	rec, ok := call.As[call.CallRecorder](x.Call)
	if !ok {
		return "_", errNoRecorder
	}
	if a.Action == "stop" {
		r, err := rec.StopRecording(ctx)
		if errors.Is(err, call.ErrNotRecording) {
			x.Trace.Add("record_call", "action", "stop", "recording", false)
			return "_", nil
		}
		if err != nil {
			return "_", fmt.Errorf("stop recording: %w", err)
		}
		x.Trace.Add("record_call", "action", "stop", "recording", true, "url", r.URL, "duration", r.Duration.Seconds())
		return "_", nil
	}
	format := a.Format
	if format == "" {
		format = "mp3"
	}
	limit := a.TimeLimit
	if limit <= 0 {
		limit = 3600
	}
	o := call.CallRecordingOptions{Format: format, URL: a.URL, Method: a.Method, TimeLimit: time.Duration(limit) * time.Second, Label: a.Label}
	if a.URL != "" {
		o.Done = func(r call.Recording, err error) {
			a.upload(asAccount(context.WithoutCancel(ctx), x), x, format, r, err)
		}
	}
	if err := rec.StartRecording(ctx, o); err != nil {
		return "_", fmt.Errorf("start recording: %w", err)
	}
	x.Trace.Add("record_call", "action", "start", "format", format, "url", a.URL, "time_limit", limit)
	return "_", nil
}

// upload sends a finished recording to the block's url (HTTP PUT by
// default, or POST), within the account's egress policy, tried again on
// failure (pivot.Client.Upload); the outcome is kept in the call log
// beside the call's webhooks, written as a "record_call" trace line while
// the trace is open, and logged.
func (a *RecordCall) upload(ctx context.Context, x *engine.Exec, format string, r call.Recording, err error) {
	d := deps(x)
	fail := func(err error) {
		x.Trace.Add("record_call", "action", "upload", "url", egress.RedactURL(a.URL), "error", err.Error())
		x.Log.Warn("record_call upload failed", "url", egress.RedactURL(a.URL), "err", err)
	}
	switch {
	case err != nil:
		fail(fmt.Errorf("recording failed: %w", err))
		return
	case r.Path == "":
		fail(errors.New("the recording has no file"))
		return
	case d.Webhooks == nil:
		fail(errNoWebhooks)
		return
	}
	body, err := os.ReadFile(r.Path)
	if err != nil {
		fail(err)
		return
	}
	contentType := "audio/wav"
	if format == "mp3" {
		var out bytes.Buffer
		if err := media.EncodeMP3(ctx, &out, bytes.NewReader(body)); err != nil {
			fail(fmt.Errorf("encode mp3: %w", err))
			return
		}
		body, contentType = out.Bytes(), "audio/mpeg"
	}
	started := time.Now()
	status, err := d.Webhooks.Upload(ctx, a.Method, a.URL, contentType, body)
	// The call log keeps the upload with the call's webhook exchanges
	// (Kazoo's pivot debug view): at the end of the call the trace is
	// closed already.
	ex := &pivot.Exchange{Method: strings.ToUpper(a.Method), URL: egress.RedactURL(a.URL),
		RequestHeaders: map[string]string{"content-type": contentType},
		RequestBody:    fmt.Sprintf("(%d bytes of %s: the call recording)", len(body), contentType),
		Status:         status, Started: started, Duration: time.Since(started)}
	if ex.Method != "POST" {
		ex.Method = "PUT"
	}
	if err != nil {
		ex.Err = err.Error()
	}
	d.logWebhook(ctx, x.Log, x.Call.Info(), ex, 0)
	if err != nil {
		fail(err)
		return
	}
	x.Trace.Add("record_call", "action", "upload", "url", egress.RedactURL(a.URL), "status", status, "bytes", len(body))
	x.Log.Info("record_call uploaded", "url", egress.RedactURL(a.URL), "status", status)
}

var _ engine.Action = (*RecordCall)(nil)
