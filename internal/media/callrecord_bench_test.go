package media

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// BenchmarkCallRecordingTrack is the cost of one 20 ms frame on a call
// recording's track (what every recorded leg adds to its reader
// goroutine): the timestamp check and the buffered WAV write.
func BenchmarkCallRecordingTrack(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "track.wav"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := wav.NewWriter(f, codec.Rate)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	t := &track{start: start, limit: 1 << 40, f: f, w: w}
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i * 97)
	}
	b.ReportAllocs()
	var ts uint32
	for i := 0; b.Loop(); i++ {
		t.write(ts, pcm, start.Add(time.Duration(i)*20*time.Millisecond))
		ts += 160
	}
	if t.err != nil {
		b.Fatal(t.err)
	}
}
