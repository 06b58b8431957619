package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// MaxDuration bounds decoded audio (an hour at 8 kHz is 57.6 MB of PCM):
// longer media is refused as unplayable rather than filling memory.
const MaxDuration = time.Hour

// maxSamples is MaxDuration at 8 kHz.
const maxSamples = int(MaxDuration/time.Second) * codec.Rate

// ErrTooLarge is wrapped when media is over MaxFetchSize bytes (an upload
// the API should answer 413, a URL whose body is too big to fetch).
var ErrTooLarge = errors.New("media too large")

// Audio is decoded media in the form calls play: 8 kHz mono 16-bit PCM.
// It is what the URL cache keeps, so a file is decoded once.
type Audio struct {
	// PCM is the samples at 8 kHz, mono.
	PCM []int16
	// Format is what the media was decoded from.
	Format Format
}

// Duration is how long the audio plays.
func (a Audio) Duration() time.Duration {
	return time.Duration(len(a.PCM)) * time.Second / codec.Rate
}

// Decode turns a media file held in memory into 8 kHz mono PCM. The
// format comes from the bytes (RIFF/WAVE, ID3 or an MPEG frame), else from
// contentType; WAV may be PCM 8/16/24/32-bit, IEEE float, µ-law or A-law,
// extensible, any rate, mono or multichannel (mixed down). Media that
// cannot be played returns an *Error with CodeUnsupportedFormat wrapping
// ErrUnsupportedFormat. It never panics on garbage. ctx stops a long
// decode.
func Decode(ctx context.Context, data []byte, contentType string) (Audio, error) {
	f := FormatOf(contentType, data)
	pcm, err := decodeAs(ctx, f, data, contentType)
	if err != nil {
		if ctx.Err() != nil {
			return Audio{}, context.Cause(ctx)
		}
		return Audio{}, &Error{Code: CodeUnsupportedFormat, Err: unsupported(err)}
	}
	return Audio{PCM: pcm, Format: f}, nil
}

// DecodeReader is Decode for a stream, such as an uploaded file's body: it
// reads at most MaxFetchSize bytes (more is ErrTooLarge).
func DecodeReader(ctx context.Context, r io.Reader, contentType string) (Audio, error) {
	data, err := readBounded(r, MaxFetchSize)
	if err != nil {
		return Audio{}, err
	}
	return Decode(ctx, data, contentType)
}

// readBounded reads all of r, failing with ErrTooLarge past max bytes.
func readBounded(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read media: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
	}
	return data, nil
}

func decodeAs(ctx context.Context, f Format, data []byte, contentType string) ([]int16, error) {
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	var pcm []int16
	switch f {
	case FormatWAV:
		a, err := wav.Decode(data)
		if err != nil {
			return nil, err
		}
		if a.Duration() > MaxDuration.Seconds() {
			return nil, fmt.Errorf("wav: longer than %v", MaxDuration)
		}
		pcm = a.To8kMono()
	case FormatMP3:
		var err error
		if pcm, err = decodeMP3(ctx, data); err != nil {
			return nil, err
		}
	case FormatULaw:
		pcm = codec.PCMU.Decode(make([]int16, len(data)), data)
	case FormatALaw:
		pcm = codec.PCMA.Decode(make([]int16, len(data)), data)
	default:
		if contentType == "" {
			return nil, errors.New("not WAV or MP3")
		}
		return nil, fmt.Errorf("not WAV or MP3 (Content-Type %q)", contentType)
	}
	if len(pcm) > maxSamples {
		return nil, fmt.Errorf("longer than %v", MaxDuration)
	}
	return pcm, nil
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, so a reader never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".store-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
