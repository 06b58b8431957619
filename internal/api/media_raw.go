package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/store"
)

// A media document's audio, as Kazoo's …/media/{media_id}/raw: PUT (or
// POST) uploads WAV or MP3, converted once to what calls play; GET answers
// it as audio/wav. A tts media is spoken when saved and stored the same
// way; deleting the document deletes its audio; export and import carry it.

// MediaLibrary keeps each account's media audio (media.Manager does).
type MediaLibrary interface {
	StoreMedia(ctx context.Context, accountID, id string, r io.Reader, contentType string) (media.Audio, error)
	SpeakMedia(ctx context.Context, accountID, id, text, voice, language string) (media.Audio, error)
	OpenMedia(accountID, id string) (*os.File, error)
	DeleteMedia(accountID, id string) error
}

var errNoMedia = &Error{Status: http.StatusServiceUnavailable, Message: "media audio unavailable"}

// mediaRoutes are the audio routes of the media kind.
func mediaRoutes() []route {
	raw := "/v2/accounts/{account_id}/media/{media_id}/raw"
	return []route{
		{"GET", raw, true, (*API).getMediaRaw},
		{"PUT", raw, true, (*API).putMediaRaw},
		{"POST", raw, true, (*API).putMediaRaw},
	}
}

// uploadTypes are the Content-Types an upload may name; anything else
// (or none) is sniffed from the bytes.
var uploadTypes = map[string]bool{
	"audio/wav": true, "audio/x-wav": true, "audio/wave": true, "audio/vnd.wave": true,
	"audio/mpeg": true, "audio/mp3": true, "audio/mpeg3": true, "audio/x-mpeg-3": true,
}

// putMediaRaw stores an upload as the media document's audio and records
// content_type and content_length in the document.
func (a *API) putMediaRaw(w http.ResponseWriter, r *http.Request) error {
	if a.media == nil {
		return errNoMedia
	}
	docs, err := a.documents()
	if err != nil {
		return err
	}
	id := r.PathValue("media_id")
	cur, err := docs.GetDoc(r.Context(), "media", accountOf(r), id)
	if err != nil {
		return err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !uploadTypes[ct] {
		ct = "" // sniffed: multipart or octet-stream bodies are read as sent
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, a.cfg.MaxMediaBytes+1))
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	if int64(len(data)) > a.cfg.MaxMediaBytes {
		return fieldError(http.StatusRequestEntityTooLarge, "media too large", "raw", "maxLength",
			fmt.Sprintf("an upload is at most %d bytes", a.cfg.MaxMediaBytes))
	}
	if len(data) == 0 {
		return fieldError(http.StatusBadRequest, "unplayable audio", "raw", "required", "the request body is empty: send the WAV or MP3 file")
	}
	if _, err := a.media.StoreMedia(r.Context(), accountOf(r), id, bytes.NewReader(data), ct); err != nil {
		return mediaError(err)
	}
	saved, err := a.setAudioFields(r, docs, cur)
	if err != nil {
		return err
	}
	k, _ := document.Lookup("media")
	return a.success(w, r, http.StatusOK, k.Answer(saved.Body), saved.Revision, nil)
}

// mediaError answers a failed store: unplayable audio is the client's.
func mediaError(err error) error {
	switch {
	case errors.Is(err, media.ErrUnsupportedFormat):
		return &Error{Status: http.StatusBadRequest, Message: "unplayable audio", Data: map[string]any{"raw": map[string]any{
			"format": map[string]any{"message": "not playable audio (WAV or MP3 expected): " + reason(err)}}}, Err: err}
	case errors.Is(err, media.ErrTooLarge):
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: "media too large", Err: err}
	case errors.Is(err, media.ErrNoTTS):
		return &Error{Status: http.StatusServiceUnavailable, Message: "text-to-speech unavailable", Data: map[string]any{
			"tts": map[string]any{"engine": map[string]any{"message": "no TTS engine (flite or espeak-ng) is installed on the server"}}}, Err: err}
	}
	return err
}

// reason is the innermost message of err, the part that names why.
func reason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// getMediaRaw answers the media document's audio.
func (a *API) getMediaRaw(w http.ResponseWriter, r *http.Request) error {
	if a.media == nil {
		return errNoMedia
	}
	docs, err := a.documents()
	if err != nil {
		return err
	}
	id := r.PathValue("media_id")
	if _, err := docs.GetDoc(r.Context(), "media", accountOf(r), id); err != nil {
		return err
	}
	f, err := a.media.OpenMedia(accountOf(r), id)
	if errors.Is(err, media.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Message: "bad identifier", Data: map[string]any{"cause": "the media has no audio yet"}, Err: err}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("media %s: %w", id, err)
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, id+".wav", st.ModTime(), f)
	return nil
}

// setAudioFields records the stored audio's type and size in the media
// document (as Kazoo's content_type and content_length).
func (a *API) setAudioFields(r *http.Request, docs store.Documents, cur store.Doc) (store.Doc, error) {
	body, err := a.withAudioFields(accountOf(r), cur.ID, cur.Body)
	if err != nil {
		return store.Doc{}, err
	}
	k, _ := document.Lookup("media")
	c, err := a.docContext(r, cur.Body)
	if err != nil {
		return store.Doc{}, err
	}
	dw, err := k.Prepare(c, body, cur.ID)
	if err != nil {
		return store.Doc{}, err
	}
	return docs.UpdateDoc(r.Context(), dw, cur.Revision)
}

// withAudioFields is body with content_type and content_length of the
// media's stored audio.
func (a *API) withAudioFields(accountID, id string, body []byte) ([]byte, error) {
	f, err := a.media.OpenMedia(accountID, id)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("media %s: %w", id, err)
	}
	doc, err := document.Decode(body)
	if err != nil {
		return nil, err
	}
	doc["content_type"] = "audio/wav"
	doc["content_length"] = st.Size()
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("media %s: %w", id, err)
	}
	return out, nil
}

// beforeWrite runs a kind's side effects before its document is written:
// a tts media with text is spoken and stored as its audio, and the
// document records the audio's type and size. A failure (no TTS engine)
// refuses the write.
func (a *API) beforeWrite(r *http.Request, k *document.Kind, dw *store.DocWrite) error {
	if k.Name != "media" {
		return nil
	}
	doc, err := document.Decode(dw.Body)
	if err != nil {
		return err
	}
	if doc["media_source"] != "tts" {
		return nil
	}
	text, voice, lang := ttsOf(doc)
	if strings.TrimSpace(text) == "" {
		return nil // nothing to speak yet: the document is kept without audio
	}
	if a.media == nil {
		return errNoMedia
	}
	if _, err := a.media.SpeakMedia(r.Context(), accountOf(r), dw.ID, text, voice, lang); err != nil {
		return mediaError(err)
	}
	body, err := a.withAudioFields(accountOf(r), dw.ID, dw.Body)
	if err != nil {
		return err
	}
	dw.Body = body
	return nil
}

// afterDelete removes what a deleted document owned: a media's audio, a
// voicemail box's messages. A failure is logged; the document is gone
// either way.
func (a *API) afterDelete(r *http.Request, k *document.Kind, d store.Doc) {
	if k.Name == "vmboxes" {
		a.deleteBoxMessages(r, d.ID)
		return
	}
	if k.Name != "media" || a.media == nil {
		return
	}
	if err := a.media.DeleteMedia(accountOf(r), d.ID); err != nil {
		a.log.Warn("media audio not deleted", "media_id", d.ID, "account_id", accountOf(r), "err", err)
	}
}

// exportAudio adds each media document's stored audio to the bundle, as
// stored, so an import restores the same bytes.
func (a *API) exportAudio(r *http.Request, b *document.Bundle) error {
	if a.media == nil {
		return nil
	}
	for i, e := range b.Documents {
		if e.Kind != "media" {
			continue
		}
		f, err := a.media.OpenMedia(accountOf(r), e.ID)
		if errors.Is(err, media.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("export media %s: %w", e.ID, err)
		}
		b.Documents[i].Audio = data
	}
	return nil
}

// checkAudio refuses, before anything is written, audio an import cannot
// keep: on a kind other than media, or not playable.
func (a *API) checkAudio(r *http.Request, e document.Entry) error {
	switch {
	case len(e.Audio) == 0:
		return nil
	case e.Kind != "media":
		return errors.New("only a media document carries audio")
	case a.media == nil:
		return errors.New("this server keeps no media audio")
	}
	if _, err := media.Decode(r.Context(), e.Audio, ""); err != nil {
		return fmt.Errorf("not playable audio: %s", reason(err))
	}
	return nil
}

// importAudio stores the audio of every media entry that carries some.
// The stored form is what export answered, so a round trip keeps it
// byte for byte. A tts media that carries none and has no audio yet is
// spoken, as when it is saved through the API (skipped, logged, when no
// TTS engine is installed: the documents are imported either way).
func (a *API) importAudio(r *http.Request, b document.Bundle) error {
	if a.media == nil {
		return nil
	}
	for _, e := range b.Documents {
		if e.Kind != "media" {
			continue
		}
		if len(e.Audio) > 0 {
			if _, err := a.media.StoreMedia(r.Context(), accountOf(r), e.ID, bytes.NewReader(e.Audio), "audio/wav"); err != nil {
				return mediaError(err)
			}
			continue
		}
		if f, err := a.media.OpenMedia(accountOf(r), e.ID); err == nil {
			f.Close()
			continue
		}
		if err := a.speakImported(r, e); err != nil {
			return err
		}
	}
	return nil
}

// speakImported speaks an imported tts media with text.
func (a *API) speakImported(r *http.Request, e document.Entry) error {
	doc, err := document.Decode(e.Document)
	if err != nil || doc["media_source"] != "tts" {
		return nil
	}
	text, voice, lang := ttsOf(doc)
	if strings.TrimSpace(text) == "" {
		return nil
	}
	_, err = a.media.SpeakMedia(r.Context(), accountOf(r), e.ID, text, voice, lang)
	if errors.Is(err, media.ErrNoTTS) {
		a.log.Warn("tts media imported without audio", "media_id", e.ID, "err", err)
		return nil
	}
	if err != nil {
		return mediaError(err)
	}
	return nil
}

// ttsOf reads a tts media's text, voice and language; Kazoo's voice is
// "female/en-US", a gender then a language, and the media's own language
// wins.
func ttsOf(doc map[string]any) (text, voice, lang string) {
	t, _ := doc["tts"].(map[string]any)
	text, _ = t["text"].(string)
	v, _ := t["voice"].(string)
	voice, lang, _ = strings.Cut(v, "/")
	if l, _ := doc["language"].(string); l != "" {
		lang = l
	}
	return text, voice, lang
}
