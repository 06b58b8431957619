package media_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
)

// frame is 20 ms of one level: frame k of a test carries level 100·(k+1),
// so where each frame landed in the file can be read back.
func frame(k int) []int16 {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(100 * (k + 1) % 30000)
	}
	return pcm
}

// A recording lasts as long as the call on the wall clock, whatever the
// network and a loaded machine did to its frames: lost frames (their time
// is silence), frames delivered late in bursts, a repeated frame, a first
// frame that came late, and a sender silent for the last half second. The
// frames that came are each at their own time.
func TestRecordFollowsWallClock(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_000_000, 0)
	path := filepath.Join(t.TempDir(), "r.wav")
	rec, err := media.NewTestRecorder(path, start, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const first, frames = 5, 125 // the sender starts at 100 ms, and goes quiet at 2.5 s
	rng := rand.New(rand.NewPCG(7, 8))
	kept := map[int]bool{}
	var late [][2]int // frames held back, delivered with the next on-time one
	for k := first; k < frames; k++ {
		ts := uint32(90_000 + 160*k)
		at := start.Add(time.Duration(k+1) * 20 * time.Millisecond)
		switch x := rng.IntN(10); {
		case x < 2 && k > first: // lost (20 %)
			continue
		case x < 4 && k > first: // late: comes with the next frame
			late = append(late, [2]int{k, int(ts)})
			kept[k] = true
			continue
		}
		for _, l := range late {
			rec.Write(uint32(l[1]), frame(l[0]), at.Add(300*time.Millisecond))
		}
		late = nil
		rec.Write(ts, frame(k), at)
		if k == 50 {
			rec.Write(ts, frame(k), at) // repeated
		}
		kept[k] = true
	}
	if err := rec.Stop(start.Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	audio := mediatest.ReadWAV(t, path)
	if got := len(audio.Samples); got != 3*8000 {
		t.Errorf("recording has %d samples (%.3f s), want 24000: the call's 3 s", got, float64(got)/8000)
	}
	for k := range 3 * 50 {
		got := audio.Samples[k*160+80]
		want := int16(0)
		if kept[k] {
			want = frame(k)[0]
		}
		if got != want {
			t.Errorf("20 ms slot %d holds level %d, want %d (kept %v)", k, got, want, kept[k])
		}
	}
}

// The recording stops at its limit, however many frames come after.
func TestRecordLimit(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_000_000, 0)
	path := filepath.Join(t.TempDir(), "r.wav")
	rec, err := media.NewTestRecorder(path, start, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 100 {
		rec.Write(uint32(160*k), frame(k), start.Add(time.Duration(k+1)*20*time.Millisecond))
	}
	if err := rec.Stop(start.Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := len(mediatest.ReadWAV(t, path).Samples); got != 8000 {
		t.Errorf("recording has %d samples, want 8000 (its 1 s limit)", got)
	}
}

// A call recording (record_call, Dial record) lasts from its start to its
// stop on the wall clock when every track's last frames were lost or
// never sent, and a repeated frame adds nothing.
func TestCallRecordingFollowsWallClock(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	a := mediatest.Session(t, m, "a")
	b := mediatest.Session(t, m, "b")
	for _, dual := range []bool{false, true} {
		rec, err := a.StartCallRecording(media.CallRecordingOptions{Dual: dual, TimeLimit: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Add(b); err != nil {
			t.Fatal(err)
		}
		start := media.CallRecordingStart(rec)
		for k := range 50 { // each party 1 s, then nothing
			at := start.Add(time.Duration(k+1) * 20 * time.Millisecond)
			media.WriteTrack(rec, 0, uint32(160*k), frame(k), at)
			media.WriteTrack(rec, 1, uint32(5000+160*k), frame(k), at)
			media.WriteTrack(rec, 1, uint32(5000+160*k), frame(k), at) // repeated
		}
		r, err := media.StopCallRecordingAt(rec, start.Add(2500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		audio := mediatest.ReadWAV(t, r.Path)
		channels := 1
		if dual {
			channels = 2
		}
		if got := len(audio.Samples) / channels; got != 20000 || r.Duration != 2500*time.Millisecond {
			t.Errorf("dual %v: %d samples a channel, duration %v; want 20000, 2.5 s", dual, got, r.Duration)
		}
	}
}
