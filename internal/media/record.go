package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

const (
	// DefaultMaxRecording is Record's limit when MaxLength is 0.
	DefaultMaxRecording = time.Hour
	// voiceLevel is the RMS (out of 32767) above which a 20 ms frame is
	// voice, not silence: about -41 dBFS.
	voiceLevel = 300
	// maxGapFill is the longest RTP timestamp gap filled with silence.
	maxGapFill = 2 * codec.Rate
)

// recorder writes what the reader goroutine delivers to a WAV file, on
// the call's wall clock: each frame where its RTP timestamp puts it after
// the previous one (a lost frame leaves its time as silence), the first
// one and one after a long gap where the wall clock says, and at the end
// silence up to the time the recording stopped (pad). So a recording lasts
// as long as the call it recorded, whatever the network or a starved
// sender lost, delayed or never sent.
type recorder struct {
	mu         sync.Mutex
	w          *wav.Writer
	start      time.Time
	limit      int64 // samples: the recording's longest
	stopped    bool
	haveTS     bool
	nextTS     uint32
	firstVoice int64 // sample index; -1 = no voice yet
	voiceEnd   int64
	lastVoice  time.Time
	err        error
}

func (r *recorder) write(ts uint32, pcm []int16, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.err != nil {
		return
	}
	gap := int32(ts - r.nextTS)
	switch {
	case !r.haveTS || gap > maxGapFill || gap < -maxGapFill:
		// The first frame, or one after a long gap (hold, a new stream):
		// where the wall clock says it ends.
		r.fill(wallSamples(r.start, now) - int64(len(pcm)))
	case gap < 0:
		return // a repeated or reordered frame: its time is written
	case gap > 0:
		r.fill(r.w.Samples() + int64(gap))
	}
	r.haveTS, r.nextTS = true, ts+uint32(len(pcm))
	if room := r.limit - r.w.Samples(); room <= 0 || r.err != nil {
		return
	} else if int64(len(pcm)) > room {
		pcm = pcm[:room]
	}
	if isVoice(pcm) {
		if r.firstVoice < 0 {
			r.firstVoice = r.w.Samples()
		}
		r.voiceEnd = r.w.Samples() + int64(len(pcm))
		r.lastVoice = now
	}
	if r.err == nil {
		r.err = r.w.Write(pcm)
	}
}

// fill writes silence up to sample at (at most the limit).
func (r *recorder) fill(at int64) {
	if n := min(at, r.limit) - r.w.Samples(); n > 0 && r.err == nil {
		r.err = r.w.WriteSilence(int(n))
	}
}

// pad ends the recording at now on the wall clock: the time after the
// last frame that arrived (a sender gone quiet, frames still on their
// way) is silence in it. It stops the recorder.
func (r *recorder) pad(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.fill(wallSamples(r.start, now))
	}
	r.stopped = true
}

// wallSamples is the number of samples from start to now.
func wallSamples(start, now time.Time) int64 {
	return int64(now.Sub(start)) * codec.Rate / int64(time.Second)
}

func isVoice(pcm []int16) bool {
	if len(pcm) == 0 {
		return false
	}
	var sum int64
	for _, v := range pcm {
		sum += int64(v) * int64(v)
	}
	return sum/int64(len(pcm)) >= voiceLevel*voiceLevel
}

// RecordingPath is where a call's n-th recording goes:
// DataDir/recordings/<accountID>/<callID>-<n>.wav, with anything but
// letters, digits, '.', '_', '-', '@' and '+' in the ids replaced by '_'.
func (m *Manager) RecordingPath(accountID, callID string, n int64) (dir, file string) {
	return filepath.Join(m.cfg.DataDir, "recordings", safeName(accountID)),
		fmt.Sprintf("%s-%d.wav", safeName(callID), n)
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-@+", c) >= 0) {
			b[i] = '_'
		}
	}
	out := string(b)
	if out == "" || strings.Trim(out, ".") == "" {
		out = "_" + out
	}
	return out
}

// Record records the caller to a WAV file (8 kHz 16-bit mono): a beep
// first when PlayBeep; it stops at MaxLength (default 1 h), after Timeout
// of silence (0 = never), at a FinishOnKey key (Digits is the key), or
// when ctx ends or the session closes: then what was recorded is kept and
// Digits is "hangup"; the error is nil when the caller hung up
// (context.Cause is call.ErrHangup). Keys queued before the recording
// starts are dropped. Trim cuts leading and trailing silence.
func (s *Session) Record(ctx context.Context, o call.RecordOptions) (call.Recording, error) {
	if err := s.ready(); err != nil {
		return call.Recording{}, err
	}
	if o.PlayBeep {
		p, _ := s.m.builtin("beep")
		if err := s.playPrompt(ctx, p, 1, ""); err != nil {
			return s.hangupResult(ctx, call.Recording{Digits: "hangup"}, err)
		}
	}
	n := s.recN.Add(1)
	dir, name := s.m.RecordingPath(s.accountID, s.callID, n)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return call.Recording{}, fmt.Errorf("record: %w", err)
	}
	path := filepath.Join(dir, name)
	defer s.m.stat.changed() // the recording's file, written until Record returns
	f, err := os.Create(path)
	if err != nil {
		return call.Recording{}, fmt.Errorf("record: %w", err)
	}
	w, err := wav.NewWriter(f, codec.Rate)
	if err != nil {
		f.Close()
		return call.Recording{}, fmt.Errorf("record: %w", err)
	}
	maxLen := o.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxRecording
	}
	s.digits.clear()
	start := time.Now()
	r := &recorder{w: w, start: start, limit: int64(maxLen / time.Millisecond * codec.Rate / 1000), firstVoice: -1}
	s.rec.Store(r)

	digits, waitErr := s.recordWait(ctx, o, r, start)

	s.rec.CompareAndSwap(r, nil)
	r.pad(time.Now())
	r.mu.Lock()
	werr := r.err
	if werr == nil {
		werr = w.Close()
	}
	samples, first, end := w.Samples(), r.firstVoice, r.voiceEnd
	r.mu.Unlock()
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return call.Recording{}, fmt.Errorf("record: %w", werr)
	}
	if o.Trim {
		if first < 0 {
			first, end = 0, 0
		}
		if err := trimWAV(path, first, end); err != nil {
			return call.Recording{}, fmt.Errorf("record: trim: %w", err)
		}
		samples = end - first
	}
	rec := call.Recording{
		URL:      path,
		Path:     path,
		Duration: time.Duration(samples) * time.Second / codec.Rate,
		Digits:   digits,
	}
	if s.m.cfg.RecordingURL != nil {
		rec.URL = s.m.cfg.RecordingURL(s.accountID, name)
	}
	if waitErr != nil {
		return s.hangupResult(ctx, rec, waitErr)
	}
	return rec, nil
}

// hangupResult is what Record returns when the call ended under it.
func (s *Session) hangupResult(ctx context.Context, rec call.Recording, err error) (call.Recording, error) {
	if errors.Is(context.Cause(ctx), call.ErrHangup) {
		return rec, nil
	}
	return rec, err
}

func (s *Session) recordWait(ctx context.Context, o call.RecordOptions, r *recorder, start time.Time) (string, error) {
	maxLen := o.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxRecording
	}
	maxT := time.NewTimer(maxLen)
	defer maxT.Stop()
	var silenceC <-chan time.Time
	var silenceT *time.Timer
	if o.Timeout > 0 {
		silenceT = time.NewTimer(o.Timeout)
		defer silenceT.Stop()
		silenceC = silenceT.C
	}
	finish := normKeys(o.FinishOnKey)
	for {
		ch := s.digits.watch()
		if finish != "" {
			if d, ok := s.digits.take(finish); ok {
				return string(d), nil
			}
		}
		select {
		case <-ch:
		case <-maxT.C:
			return "", nil
		case <-silenceC:
			r.mu.Lock()
			last := r.lastVoice
			r.mu.Unlock()
			if last.IsZero() {
				last = start
			}
			if quiet := time.Since(last); quiet < o.Timeout {
				silenceT.Reset(o.Timeout - quiet)
				continue
			}
			return "", nil
		case <-ctx.Done():
			return "hangup", context.Cause(ctx)
		case <-s.done:
			return "hangup", ErrClosed
		}
	}
}

// trimWAV rewrites a 16-bit mono WAV keeping samples [first, end).
func trimWAV(path string, first, end int64) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".trim-*.wav")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w, err := wav.NewWriter(tmp, codec.Rate)
	if err != nil {
		tmp.Close()
		return err
	}
	buf := make([]byte, 32<<10)
	samples := make([]int16, len(buf)/2)
	rd := io.NewSectionReader(src, 44+2*first, 2*(end-first))
	for {
		n, rerr := io.ReadFull(rd, buf)
		k := n / 2
		for i := range k {
			samples[i] = int16(uint16(buf[2*i]) | uint16(buf[2*i+1])<<8)
		}
		if err := w.Write(samples[:k]); err != nil {
			tmp.Close()
			return err
		}
		if rerr != nil {
			break
		}
	}
	if err := w.Close(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
