package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// ErrRecording is returned by Add when the session is already a track
// of the recording.
var ErrRecording = errors.New("media session already recorded")

// CallRecordingOptions describe a recording of a whole call.
type CallRecordingOptions struct {
	// Dual keeps each party on its own channel (the first session left,
	// the next right); otherwise they are mixed into one.
	Dual bool
	// TimeLimit is the longest recording; DefaultMaxRecording when 0.
	TimeLimit time.Duration
}

// CallRecording records what each party of a call says, each session
// on its own track (what its far end sends us), aligned on the wall
// clock from the start: the caller's session first, the parties it is
// bridged to after (Add). Stop mixes the tracks (or lays them side by
// side) into the call's next recording file, served like every other.
// The tracks are written to temporary files as the audio comes, so a
// long call costs no memory.
type CallRecording struct {
	s     *Session // the first session: its account, call id and recording numbers
	o     CallRecordingOptions
	start time.Time

	mu      sync.Mutex
	tracks  []*track
	stopped bool
}

// track is one party's audio in a CallRecording: written by its
// session's I/O loop (deliver), read back by Stop.
type track struct {
	s     *Session
	start time.Time
	limit int64 // samples

	mu      sync.Mutex
	f       *os.File
	w       *wav.Writer
	haveTS  bool
	nextTS  uint32
	stopped bool
	err     error
}

// StartCallRecording starts recording the call s belongs to, with s's
// party on the first track.
func (s *Session) StartCallRecording(o CallRecordingOptions) (*CallRecording, error) {
	if o.TimeLimit <= 0 {
		o.TimeLimit = DefaultMaxRecording
	}
	r := &CallRecording{s: s, o: o, start: time.Now()}
	if err := r.Add(s); err != nil {
		return nil, err
	}
	return r, nil
}

// Add records another party of the call (the leg s was bridged to) on
// the next track. A stopped recording takes no more.
func (r *CallRecording) Add(s *Session) error {
	if s == nil {
		return errors.New("call recording: no session")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return errors.New("call recording: stopped")
	}
	dir, _ := r.s.m.RecordingPath(r.s.accountID, r.s.callID, 0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("call recording: %w", err)
	}
	f, err := os.CreateTemp(dir, ".track-*.wav")
	if err != nil {
		return fmt.Errorf("call recording: %w", err)
	}
	w, err := wav.NewWriter(f, codec.Rate)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("call recording: %w", err)
	}
	t := &track{s: s, start: r.start, limit: int64(r.o.TimeLimit / time.Second * codec.Rate), f: f, w: w}
	for _, o := range r.tracks {
		if o.s == s {
			f.Close()
			os.Remove(f.Name())
			return ErrRecording
		}
	}
	s.setTap(t, true)
	r.tracks = append(r.tracks, t)
	return nil
}

// setTap adds t to the tracks the session's audio feeds, or removes it.
// The I/O loop loads the list without a lock: each change
// stores a new one.
func (s *Session) setTap(t *track, on bool) {
	for {
		old := s.taps.Load()
		var list []*track
		if old != nil {
			for _, x := range *old {
				if x != t {
					list = append(list, x)
				}
			}
		}
		if on {
			list = append(list, t)
		}
		var next *[]*track
		if len(list) > 0 {
			next = &list
		}
		if s.taps.CompareAndSwap(old, next) {
			return
		}
	}
}

// write places a frame on the track: after the previous one by RTP
// timestamp (a short gap becomes silence), or where the wall clock says
// when it is the first or follows a long gap (hold), so the tracks stay
// aligned with each other.
func (t *track) write(ts uint32, pcm []int16, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.err != nil {
		return
	}
	gap := int32(ts - t.nextTS)
	if !t.haveTS || gap > maxGapFill || gap < -maxGapFill {
		at := int64(now.Sub(t.start))*codec.Rate/int64(time.Second) - int64(len(pcm))
		if fill := at - t.w.Samples(); fill > 0 {
			t.err = t.w.WriteSilence(int(min(fill, t.limit)))
		}
	} else if gap < 0 {
		return // a repeated or reordered frame: its time is written
	} else if gap > 0 {
		t.err = t.w.WriteSilence(int(gap))
	}
	t.haveTS, t.nextTS = true, ts+uint32(len(pcm))
	if room := t.limit - t.w.Samples(); room <= 0 || t.err != nil {
		return
	} else if int64(len(pcm)) > room {
		pcm = pcm[:room]
	}
	t.err = t.w.Write(pcm)
}

// close stops the track and closes its file; its samples stay there
// for Stop.
func (t *track) close() error {
	t.s.setTap(t, false) // the reader may be inside write: the lock waits for it
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return t.err
	}
	t.stopped = true
	err := t.err
	if err == nil {
		err = t.w.Close()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	t.err = err
	return err
}

// Discard stops the recording and keeps nothing (a dial that was never
// bridged).
func (r *CallRecording) Discard() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	for _, t := range r.tracks {
		t.close()
		os.Remove(t.f.Name())
	}
	r.tracks = nil
}

// Stop ends the recording and writes it as the call's next recording:
// 8 kHz 16-bit WAV, mono (the parties mixed) or, with Dual, one channel
// per party. It lasts from the start to now on the wall clock (at most
// TimeLimit), or the longest track when that is longer: the end of a call
// whose last frames were lost or never sent is silence, not missing.
func (r *CallRecording) Stop() (call.Recording, error) {
	return r.stopAt(time.Now())
}

func (r *CallRecording) stopAt(now time.Time) (call.Recording, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return call.Recording{}, errors.New("call recording: stopped")
	}
	r.stopped = true
	defer r.s.m.stat.changed() // the recording's file
	var errs []error
	for _, t := range r.tracks {
		if err := t.close(); err != nil {
			errs = append(errs, err)
		}
	}
	defer func() {
		for _, t := range r.tracks {
			os.Remove(t.f.Name())
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return call.Recording{}, fmt.Errorf("call recording: %w", err)
	}
	s := r.s
	n := s.recN.Add(1)
	dir, name := s.m.RecordingPath(s.accountID, s.callID, n)
	path := filepath.Join(dir, name)
	samples, err := r.mix(path, min(wallSamples(r.start, now), int64(r.o.TimeLimit/time.Millisecond*codec.Rate/1000)))
	if err != nil {
		os.Remove(path)
		return call.Recording{}, fmt.Errorf("call recording: %w", err)
	}
	rec := call.Recording{URL: path, Path: path, Duration: time.Duration(samples) * time.Second / codec.Rate}
	if s.m.cfg.RecordingURL != nil {
		rec.URL = s.m.cfg.RecordingURL(s.accountID, name)
	}
	return rec, nil
}

// mix writes the tracks into path, mixed or side by side, at least length
// samples long; it returns the samples per channel.
func (r *CallRecording) mix(path string, length int64) (int64, error) {
	readers := make([]*bufio.Reader, len(r.tracks))
	for i, t := range r.tracks {
		f, err := os.Open(t.f.Name())
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if _, err := f.Seek(44, io.SeekStart); err != nil { // the track's header
			return 0, err
		}
		readers[i] = bufio.NewReaderSize(f, 32<<10)
		length = max(length, t.w.Samples())
	}
	out, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	channels := 1
	if r.o.Dual {
		channels = max(len(r.tracks), 1)
	}
	w, err := wav.NewWriterChannels(out, codec.Rate, channels)
	if err != nil {
		return 0, err
	}
	const block = 1024
	frame := make([]int16, block*channels)
	var b [2]byte
	for done := int64(0); done < length; done += block {
		k := int(min(block, length-done))
		clear(frame[:k*channels])
		for ti, rd := range readers {
			for i := range k {
				if _, err := io.ReadFull(rd, b[:]); err != nil {
					break // a shorter track: silence
				}
				v := int16(binary.LittleEndian.Uint16(b[:]))
				if channels == 1 {
					frame[i] = clampAdd(frame[i], v)
				} else {
					frame[i*channels+ti] = v
				}
			}
		}
		if err := w.Write(frame[:k*channels]); err != nil {
			return 0, err
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return length, out.Close()
}

// clampAdd mixes two samples without wrapping around.
func clampAdd(a, b int16) int16 {
	return int16(max(-32768, min(32767, int32(a)+int32(b))))
}
