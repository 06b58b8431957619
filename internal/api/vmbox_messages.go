package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/voicemail"
)

// A voicemail box's messages under Kazoo's paths
// (…/vmboxes/{vmbox_id}/messages[/{media_id}[/raw]]): each message is a
// stored document of the hidden kind vmbox_messages (metadata with
// Kazoo's field names: caller_id_number, caller_id_name, timestamp in
// Gregorian seconds, length in milliseconds, folder new/saved) and its
// audio in the account's media library under the message's media_id. A
// message is reached only through its own box in its own account.

// messageFields are the metadata a new message may carry, as Kazoo names
// them, with their longest length.
var messageFields = map[string]int{
	"caller_id_number": 35, "caller_id_name": 35, "call_id": 256, "from": 256, "to": 256,
}

// vmboxMessageRoutes are the routes of a box's messages.
func vmboxMessageRoutes() []route {
	base := "/v2/accounts/{account_id}/vmboxes/{vmbox_id}/messages"
	one := base + "/{media_id}"
	return []route{
		{"GET", base, true, (*API).listMessages},
		{"PUT", base, true, (*API).createMessage},
		{"GET", one, true, (*API).getMessage},
		{"POST", one, true, (*API).updateMessage},
		{"DELETE", one, true, (*API).deleteMessage},
		{"GET", one + "/raw", true, (*API).getMessageRaw},
	}
}

// vm is the message store over the API's documents and media.
func (a *API) vm() (*voicemail.Store, error) {
	docs, err := a.documents()
	if err != nil {
		return nil, err
	}
	vs := &voicemail.Store{Docs: docs, Now: a.now}
	if a.media != nil {
		vs.Audio = a.media
	}
	return vs, nil
}

// messageBox checks that the box exists in the request's account.
func (a *API) messageBox(r *http.Request) (*voicemail.Store, voicemail.Box, error) {
	vs, err := a.vm()
	if err != nil {
		return nil, voicemail.Box{}, err
	}
	box, err := vs.Box(r.Context(), accountOf(r), r.PathValue("vmbox_id"))
	if err != nil {
		return nil, voicemail.Box{}, err
	}
	return vs, box, nil
}

// message reads one message of the box; another box's is not found.
func (a *API) message(r *http.Request) (*voicemail.Store, voicemail.Box, voicemail.Message, string, error) {
	vs, box, err := a.messageBox(r)
	if err != nil {
		return nil, voicemail.Box{}, nil, "", err
	}
	m, rev, err := vs.Message(r.Context(), accountOf(r), box.ID, r.PathValue("media_id"))
	if err != nil {
		return nil, voicemail.Box{}, nil, "", err
	}
	return vs, box, m, rev, nil
}

// messageAnswer is a message as the API shows it (the box id is the path's).
func messageAnswer(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != "vmbox_id" {
			out[k] = v
		}
	}
	return out
}

// listMessages answers a box's messages, newest first; ?folder= keeps one
// folder.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	vs, box, err := a.messageBox(r)
	if err != nil {
		return err
	}
	msgs, err := vs.Messages(r.Context(), accountOf(r), box.ID, r.URL.Query().Get("folder"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, messageAnswer(m))
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// getMessage answers one message's metadata.
func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	_, _, m, rev, err := a.message(r)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, messageAnswer(m), rev, nil)
}

// updateMessage moves a message to another folder (Kazoo's
// {"data": {"folder": "saved"}}: heard).
func (a *API) updateMessage(w http.ResponseWriter, r *http.Request) error {
	vs, box, m, _, err := a.message(r)
	if err != nil {
		return err
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	var body struct {
		Folder string `json:"folder"`
	}
	_ = json.Unmarshal(req.Data, &body) // a folder of another type is refused below
	folder := body.Folder
	if !slices.Contains(voicemail.Folders, folder) {
		return fieldError(http.StatusBadRequest, "validation failed", "folder", "enum",
			"folder is one of: "+strings.Join(voicemail.Folders, ", "))
	}
	m, rev, err := vs.SetFolder(r.Context(), accountOf(r), box.ID, m.ID(), folder)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, messageAnswer(m), rev, nil)
}

// deleteMessage removes a message and its audio.
func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	vs, box, m, _, err := a.message(r)
	if err != nil {
		return err
	}
	if _, err := vs.Delete(r.Context(), accountOf(r), box.ID, m.ID()); err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, messageAnswer(m), "", nil)
}

// getMessageRaw answers a message's audio as WAV.
func (a *API) getMessageRaw(w http.ResponseWriter, r *http.Request) error {
	if a.media == nil {
		return errNoMedia
	}
	_, _, msg, _, err := a.message(r)
	if err != nil {
		return err
	}
	id := msg.ID()
	f, err := a.media.OpenMedia(accountOf(r), id)
	if errors.Is(err, media.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Message: "bad identifier", Data: map[string]any{"cause": "the message has no audio"}, Err: err}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("message %s: %w", id, err)
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, id+".wav", st.ModTime(), f)
	return nil
}

// createMessage stores a new message: a multipart body (Kazoo's way) whose
// JSON part holds the metadata ({"data": {…}}) and whose audio part is WAV
// or MP3, or a bare WAV/MP3 body with no metadata. The length is measured
// from the audio; the folder is "new".
func (a *API) createMessage(w http.ResponseWriter, r *http.Request) error {
	if a.media == nil {
		return errNoMedia
	}
	vs, box, err := a.messageBox(r)
	if err != nil {
		return err
	}
	meta, audio, ct, err := a.readMessage(r)
	if err != nil {
		return err
	}
	keep := map[string]any{}
	for k, maxLen := range messageFields {
		v, ok := meta[k]
		if !ok {
			continue
		}
		s, isStr := v.(string)
		if !isStr || len(s) > maxLen {
			return fieldError(http.StatusBadRequest, "validation failed", k, "maxLength", fmt.Sprintf("%s is a string of at most %d characters", k, maxLen))
		}
		keep[k] = s
	}
	m, err := vs.Save(r.Context(), accountOf(r), box, keep, bytes.NewReader(audio), ct)
	if errors.Is(err, voicemail.ErrBoxFull) {
		return fieldError(http.StatusBadRequest, "mailbox full", "max_message_count", "maximum",
			fmt.Sprintf("the box holds its %d messages already", box.MaxMessageCount))
	}
	if err != nil {
		return mediaError(err)
	}
	return a.success(w, r, http.StatusCreated, messageAnswer(m), "", nil)
}

// readMessage splits a new message's body into metadata and audio.
func (a *API) readMessage(r *http.Request) (map[string]any, []byte, string, error) {
	limit := a.cfg.MaxMediaBytes + a.cfg.MaxBodyBytes
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	meta := map[string]any{}
	var audio []byte
	audioType := ""
	if strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(io.LimitReader(r.Body, limit+1), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, "", fieldError(http.StatusBadRequest, "invalid request", "body", "multipart", "the multipart body could not be read: "+reason(err))
			}
			pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			b, err := io.ReadAll(io.LimitReader(p, limit+1))
			if err != nil {
				return nil, nil, "", fmt.Errorf("read message part: %w", err)
			}
			if pt == "application/json" || (pt == "" && len(b) > 0 && b[0] == '{') {
				req, err := decodeRequest(b)
				if err != nil {
					return nil, nil, "", err
				}
				if meta, err = document.Decode(req.Data); err != nil {
					return nil, nil, "", fmt.Errorf("message metadata: %w", err)
				}
				continue
			}
			audio, audioType = b, pt
		}
	} else {
		b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return nil, nil, "", fmt.Errorf("read message: %w", err)
		}
		audio, audioType = b, ct
	}
	if int64(len(audio)) > a.cfg.MaxMediaBytes {
		return nil, nil, "", fieldError(http.StatusRequestEntityTooLarge, "media too large", "raw", "maxLength",
			fmt.Sprintf("a message is at most %d bytes", a.cfg.MaxMediaBytes))
	}
	if len(audio) == 0 {
		return nil, nil, "", fieldError(http.StatusBadRequest, "unplayable audio", "raw", "required", "the message has no audio: send a WAV or MP3 part")
	}
	if !uploadTypes[audioType] {
		audioType = ""
	}
	return meta, audio, audioType, nil
}

// deleteBoxMessages removes the messages of a deleted box and their audio.
func (a *API) deleteBoxMessages(r *http.Request, box string) {
	vs, err := a.vm()
	if err != nil {
		return
	}
	msgs, err := vs.Messages(r.Context(), accountOf(r), box, "")
	if err != nil {
		a.log.Warn("messages of a deleted box not listed", "vmbox_id", box, "err", err)
		return
	}
	for _, m := range msgs {
		if _, err := vs.Delete(r.Context(), accountOf(r), box, m.ID()); err != nil {
			a.log.Warn("message of a deleted box not deleted", "media_id", m.ID(), "err", err)
		}
	}
}
