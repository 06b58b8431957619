package media

import (
	"os"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// TestRecorder is the recorder Record uses, on a file of the test's: a
// test delivers frames with the times it chooses, as a loaded machine
// would.
type TestRecorder struct {
	r *recorder
	f *os.File
}

// NewTestRecorder starts a recorder at start, limited to limit.
func NewTestRecorder(path string, start time.Time, limit time.Duration) (*TestRecorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := wav.NewWriter(f, codec.Rate)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &TestRecorder{r: &recorder{w: w, start: start, limit: int64(limit / time.Millisecond * codec.Rate / 1000), firstVoice: -1}, f: f}, nil
}

// Write delivers one frame with RTP timestamp ts, arrived at now.
func (t *TestRecorder) Write(ts uint32, pcm []int16, now time.Time) { t.r.write(ts, pcm, now) }

// Stop ends the recording at now, as Record does, and closes the file.
func (t *TestRecorder) Stop(now time.Time) error {
	t.r.pad(now)
	if err := t.r.w.Close(); err != nil {
		return err
	}
	return t.f.Close()
}

// WriteTrack delivers a frame to the i-th track of r, as its session's
// reader would.
func WriteTrack(r *CallRecording, i int, ts uint32, pcm []int16, now time.Time) {
	r.mu.Lock()
	t := r.tracks[i]
	r.mu.Unlock()
	t.write(ts, pcm, now)
}

// CallRecordingStart is when r began.
func CallRecordingStart(r *CallRecording) time.Time { return r.start }

// StopCallRecordingAt is Stop at now on the wall clock.
func StopCallRecordingAt(r *CallRecording, now time.Time) (call.Recording, error) {
	return r.stopAt(now)
}
