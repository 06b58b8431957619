package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/media/wav"
)

// ErrNoLAME is returned by EncodeMP3 when Debian's lame is not installed
// (the API then offers the recording as WAV only), and wrapped for an
// MPEG-2.5 MP3 that only lame could decode.
var ErrNoLAME = errors.New("lame is not installed")

// lameTimeout bounds one lame run: an hour-long recording encodes in a few
// seconds; a stuck process must not hold a request for ever.
const lameTimeout = 2 * time.Minute

// MP3Bitrate is what EncodeMP3 writes: 32 kbit/s mono at 16 kHz is plenty
// for 8 kHz telephone audio (about 240 kB a minute).
const MP3Bitrate = 32

// EncodeMP3 encodes a WAV recording (as Record writes them, or any WAV
// lame reads) to MP3 on w, for RecordingUrl.mp3. It runs Debian's lame as
// a process, as TTS runs flite: a maintained encoder, no cgo, and nothing
// in our address space parses the audio. ctx bounds the run (and
// lameTimeout does too); the output is complete only when it returns nil.
func EncodeMP3(ctx context.Context, w io.Writer, wavData io.Reader) error {
	bin, err := exec.LookPath("lame")
	if err != nil {
		return ErrNoLAME
	}
	var stderr bytes.Buffer
	// "-" and "-" read stdin and write stdout; -t writes no LAME tag
	// frame. 16 kHz makes MPEG-2 rather than the rarer MPEG 2.5 (8 kHz),
	// which every player and go-mp3 read.
	if err := runLAME(ctx, bin, wavData, w, &stderr, "--quiet", "--nohist", "-t",
		"--resample", "16", "-b", fmt.Sprint(MP3Bitrate), "-m", "m", "-", "-"); err != nil {
		return fmt.Errorf("encode mp3: %w", err)
	}
	return nil
}

// decodeMP3LAME decodes an MP3 with lame --decode: go-mp3 does not read
// MPEG 2.5 (8, 11.025 and 12 kHz: telephone-rate MP3s), lame does.
func decodeMP3LAME(ctx context.Context, data []byte) ([]int16, error) {
	bin, err := exec.LookPath("lame")
	if err != nil {
		return nil, fmt.Errorf("mp3: MPEG 2.5 needs lame: %w", ErrNoLAME)
	}
	var out, stderr bytes.Buffer
	// Up to MaxDuration at 12 kHz (MPEG 2.5's highest), 16-bit stereo;
	// past that lame is killed (it would block on a pipe nobody reads).
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lw := &limitedWriter{w: &out, n: 4 * 12000 * int64(MaxDuration/time.Second), stop: cancel}
	if err := runLAME(rctx, bin, bytes.NewReader(data), lw, &stderr,
		"--quiet", "--decode", "--mp3input", "-", "-"); err != nil {
		if lw.over {
			return nil, fmt.Errorf("mp3: longer than %v", MaxDuration)
		}
		return nil, fmt.Errorf("mp3: %w", err)
	}
	a, err := wav.Decode(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("mp3: lame output: %w", err)
	}
	if len(a.Samples) == 0 {
		return nil, errors.New("mp3: no audio frames")
	}
	return a.To8kMono(), nil
}

func runLAME(ctx context.Context, bin string, in io.Reader, out, stderr io.Writer, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, lameTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("lame: %w", context.Cause(ctx))
		}
		msg := strings.TrimSpace(fmt.Sprint(stderr))
		return fmt.Errorf("lame: %w: %s", err, msg)
	}
	return nil
}

// limitedWriter fails, and calls stop, once more than n bytes are
// written, so a runaway decoder cannot fill memory.
type limitedWriter struct {
	w    io.Writer
	n    int64
	stop func()
	over bool
}

// Write passes p on while within the limit.
func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		l.over = true
		l.stop()
		return 0, fmt.Errorf("mp3: longer than %v", MaxDuration)
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// isMPEG25 reports whether the first layer III frame header in the first
// 64 kB of data (after ID3 tags) is MPEG 2.5.
func isMPEG25(data []byte) bool {
	data = data[:min(len(data), 64<<10)]
	for i := 0; i+4 <= len(data); i++ {
		if isMP3Frame(data[i:]) {
			return data[i+1]>>3&3 == 0
		}
	}
	return false
}
