package media

import (
	"bytes"
	"mime"
	"strings"
)

// Format is an audio file format, as chosen from a Content-Type or the
// file's first bytes; it says which decoder turns it into 8 kHz PCM.
type Format string

// The formats we play. FormatULaw and FormatALaw are headerless G.711 at
// 8 kHz mono (Twilio's audio/ulaw); they cannot be sniffed, only named by
// a Content-Type.
const (
	FormatUnknown Format = ""
	FormatWAV     Format = "wav"
	FormatMP3     Format = "mp3"
	FormatULaw    Format = "ulaw"
	FormatALaw    Format = "alaw"
)

// FormatOf picks the decoder for media: by its first bytes when they are
// recognised (a WAV served as audio/mpeg still plays), else by the
// Content-Type. FormatUnknown means it cannot be played.
func FormatOf(contentType string, head []byte) Format {
	if f := Sniff(head); f != FormatUnknown {
		return f
	}
	return FormatForType(contentType)
}

// FormatForType is the format a Content-Type names (parameters ignored),
// FormatUnknown for a generic or non-audio one, so that the bytes decide.
func FormatForType(contentType string) Format {
	t, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		t = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch t {
	case "audio/wav", "audio/wave", "audio/x-wav", "audio/vnd.wave", "audio/x-pn-wav":
		return FormatWAV
	case "audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg", "audio/x-mpeg-3", "audio/x-mp3", "audio/mpa":
		return FormatMP3
	case "audio/ulaw", "audio/x-ulaw", "audio/pcmu", "audio/x-mulaw", "audio/mulaw":
		return FormatULaw
	case "audio/alaw", "audio/x-alaw", "audio/pcma":
		return FormatALaw
	}
	return FormatUnknown
}

// Sniff recognises a file from its first bytes: RIFF/WAVE is WAV; an ID3v2
// tag or an MPEG audio layer III frame header is MP3.
func Sniff(head []byte) Format {
	switch {
	case len(head) >= 12 && bytes.Equal(head[0:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WAVE")):
		return FormatWAV
	case len(head) >= 10 && bytes.Equal(head[0:3], []byte("ID3")) && head[3] < 0xFF && head[4] < 0xFF:
		return FormatMP3
	case isMP3Frame(head):
		return FormatMP3
	}
	return FormatUnknown
}

// isMP3Frame reports whether head starts with an MPEG-1/2/2.5 layer III
// frame header: 11 sync bits, a valid version, layer III, a bitrate index
// other than 15 and a sample rate index other than 3.
func isMP3Frame(head []byte) bool {
	if len(head) < 4 || head[0] != 0xFF || head[1]&0xE0 != 0xE0 {
		return false
	}
	version := head[1] >> 3 & 3
	layer := head[1] >> 1 & 3
	bitrate := head[2] >> 4
	rate := head[2] >> 2 & 3
	return version != 1 && layer == 1 && bitrate != 15 && rate != 3
}
