package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/tts"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// The media library: each account's stored media (Kazoo's media
// documents' audio), kept as 8 kHz 16-bit mono WAV under
// DataDir/media/<account>/<id>.wav, so a call plays an upload without
// decoding it again and no account reaches another's audio.

// StoreMedia decodes an uploaded file (WAV or MP3, as Decode) and keeps it
// as accountID's stored media id, where Play{MediaID: id} on a call of
// that account finds it. It returns the decoded audio (for its duration).
// The file is replaced atomically; a failed decode leaves any previous one
// in place.
func (m *Manager) StoreMedia(ctx context.Context, accountID, id string, r io.Reader, contentType string) (Audio, error) {
	path, err := m.MediaPath(accountID, id)
	if err != nil {
		return Audio{}, err
	}
	a, err := DecodeReader(ctx, r, contentType)
	if err != nil {
		return Audio{}, fmt.Errorf("store media %s: %w", id, err)
	}
	err = writeFileAtomic(path, wav.Encode(a.PCM, codec.Rate))
	m.stat.changed()
	if err != nil {
		return Audio{}, fmt.Errorf("store media %s: %w", id, err)
	}
	return a, nil
}

// SpeakMedia speaks text once with the TTS engine (Kazoo's tts media) and
// stores the result as accountID's media id, so calls play it like an
// upload. ErrNoTTS when no engine is installed.
func (m *Manager) SpeakMedia(ctx context.Context, accountID, id, text, voice, language string) (Audio, error) {
	if strings.TrimSpace(text) == "" {
		return Audio{}, fmt.Errorf("speak media %s: no text", id)
	}
	if m.tts == nil {
		return Audio{}, ErrNoTTS
	}
	path, err := m.tts.Speak(ctx, tts.Request{Text: text, Voice: voice, Language: language})
	if err != nil {
		return Audio{}, fmt.Errorf("speak media %s: %w", id, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return Audio{}, fmt.Errorf("speak media %s: %w", id, err)
	}
	defer f.Close()
	return m.StoreMedia(ctx, accountID, id, f, "audio/wav")
}

// OpenMedia opens accountID's stored media id (a WAV file) for reading;
// ErrNotFound when it has no audio.
func (m *Manager) OpenMedia(accountID, id string) (*os.File, error) {
	path, err := m.MediaPath(accountID, id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: media id %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("open media %s: %w", id, err)
	}
	return f, nil
}

// DeleteMedia removes accountID's stored media id's audio; no audio is
// not an error.
func (m *Manager) DeleteMedia(accountID, id string) error {
	path, err := m.MediaPath(accountID, id)
	if err != nil {
		return err
	}
	err = os.Remove(path)
	m.stat.changed()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete media %s: %w", id, err)
	}
	return nil
}
