package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// decodeMP3 decodes an MP3 file to 8 kHz mono with go-mp3, mixing down and
// resampling as it goes so that only 8 kHz audio is ever held whole. A
// stream that breaks after some audio keeps what was decoded (as players
// do); one that yields no audio is an error, and a panic inside the
// decoder on a corrupt stream is turned into one.
func decodeMP3(ctx context.Context, data []byte) (pcm []int16, err error) {
	defer func() {
		if r := recover(); r != nil {
			pcm, err = nil, fmt.Errorf("mp3: corrupt stream (%v)", r)
		}
	}()
	// go-mp3 allocates an ID3 tag's declared size (up to 256 MB) to skip
	// it; skip tags here, within the bytes we have.
	data = skipID3(data)
	if isMPEG25(data) {
		return decodeMP3LAME(ctx, data)
	}
	// A reader without Seek keeps go-mp3 from scanning the file twice.
	d, err := mp3.NewDecoder(struct{ io.Reader }{bytes.NewReader(data)})
	if err != nil {
		return nil, fmt.Errorf("mp3: %w", err)
	}
	rate := d.SampleRate()
	if rate < 8000 || rate > 48000 {
		return nil, fmt.Errorf("mp3: sample rate %d", rate)
	}
	rs := wav.NewResampler(rate, codec.Rate)
	buf := make([]byte, 16<<10) // 16-bit stereo from go-mp3
	mono := make([]int16, 0, len(buf)/4)
	limit := maxSamples + codec.Rate // a little over, so "too long" is seen
	decoded := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		n, rerr := io.ReadFull(d, buf)
		mono = mono[:0]
		for i := 0; i+4 <= n; i += 4 {
			l := int32(int16(binary.LittleEndian.Uint16(buf[i:])))
			r := int32(int16(binary.LittleEndian.Uint16(buf[i+2:])))
			mono = append(mono, int16((l+r)/2))
		}
		decoded = decoded || len(mono) > 0
		pcm = rs.Write(pcm, mono)
		if len(pcm) > limit {
			return nil, fmt.Errorf("mp3: longer than %v", MaxDuration)
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) || decoded {
				break
			}
			return nil, fmt.Errorf("mp3: %w", rerr)
		}
	}
	if !decoded {
		return nil, errors.New("mp3: no audio frames")
	}
	return rs.Flush(pcm), nil
}

// skipID3 drops the ID3v2 tags at the start of data (several may follow
// one another), bounded by len(data).
func skipID3(data []byte) []byte {
	for len(data) >= 10 && string(data[0:3]) == "ID3" {
		s := data[6:10]
		if s[0]|s[1]|s[2]|s[3] >= 0x80 {
			break // not a syncsafe size: not a tag
		}
		size := 10 + (int(s[0])<<21 | int(s[1])<<14 | int(s[2])<<7 | int(s[3]))
		if data[5]&0x10 != 0 { // footer present
			size += 10
		}
		data = data[min(size, len(data)):]
	}
	return data
}
