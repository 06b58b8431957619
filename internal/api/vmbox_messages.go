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
	"time"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/store"
)

// A voicemail box's messages under Kazoo's paths
// (…/vmboxes/{vmbox_id}/messages[/{media_id}[/raw]]): each message is a
// stored document of the hidden kind vmbox_messages (metadata with
// Kazoo's field names: caller_id_number, caller_id_name, timestamp in
// Gregorian seconds, length in milliseconds, folder new/saved) and its
// audio in the account's media library under the message's media_id. A
// message is reached only through its own box in its own account.

// messageKind is the store kind of voicemail messages; it has no
// document routes of its own (not registered in internal/document).
const messageKind = "vmbox_messages"

// gregorianOffset is the seconds from year 0 to the Unix epoch: Kazoo's
// timestamps count from year 0.
const gregorianOffset = 62167219200

// messageFolders are the folders an admin may move a message to.
var messageFolders = []string{"new", "saved"}

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

// messageBox checks that the box exists in the request's account.
func (a *API) messageBox(r *http.Request) (store.Documents, string, error) {
	docs, err := a.documents()
	if err != nil {
		return nil, "", err
	}
	box := r.PathValue("vmbox_id")
	if _, err := docs.GetDoc(r.Context(), "vmboxes", accountOf(r), box); err != nil {
		return nil, "", err
	}
	return docs, box, nil
}

// message reads one message of the box; another box's is not found.
func (a *API) message(r *http.Request) (store.Documents, store.Doc, map[string]any, error) {
	docs, box, err := a.messageBox(r)
	if err != nil {
		return nil, store.Doc{}, nil, err
	}
	d, err := docs.GetDoc(r.Context(), messageKind, accountOf(r), r.PathValue("media_id"))
	if err != nil {
		return nil, store.Doc{}, nil, err
	}
	m, err := document.Decode(d.Body)
	if err != nil {
		return nil, store.Doc{}, nil, fmt.Errorf("message %s: %w", d.ID, err)
	}
	if m["vmbox_id"] != box {
		return nil, store.Doc{}, nil, fmt.Errorf("message %s of another box: %w", d.ID, store.ErrNotFound)
	}
	return docs, d, m, nil
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
	docs, box, err := a.messageBox(r)
	if err != nil {
		return err
	}
	q := store.DocQuery{Filters: map[string]string{"vmbox_id": box}}
	if f := r.URL.Query().Get("folder"); f != "" {
		q.Filters["folder"] = f
	}
	page, _, err := docs.ListDocs(r.Context(), messageKind, accountOf(r), q)
	if err != nil {
		return fmt.Errorf("list messages of %s: %w", box, err)
	}
	out := make([]map[string]any, 0, len(page))
	for _, d := range page {
		m, err := document.Decode(d.Body)
		if err != nil {
			return fmt.Errorf("message %s: %w", d.ID, err)
		}
		out = append(out, messageAnswer(m))
	}
	slices.SortStableFunc(out, func(x, y map[string]any) int { return stamp(y) - stamp(x) })
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// stamp is a message's timestamp for sorting.
func stamp(m map[string]any) int {
	switch v := m["timestamp"].(type) {
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	case float64:
		return int(v)
	case int64:
		return int(v)
	}
	return 0
}

// getMessage answers one message's metadata.
func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	_, d, m, err := a.message(r)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, messageAnswer(m), d.Revision, nil)
}

// updateMessage moves a message to another folder (Kazoo's
// {"data": {"folder": "saved"}}: heard).
func (a *API) updateMessage(w http.ResponseWriter, r *http.Request) error {
	docs, d, m, err := a.message(r)
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
	if !slices.Contains(messageFolders, folder) {
		return fieldError(http.StatusBadRequest, "validation failed", "folder", "enum",
			"folder is one of: "+strings.Join(messageFolders, ", "))
	}
	m["folder"] = folder
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("message %s: %w", d.ID, err)
	}
	saved, err := docs.UpdateDoc(r.Context(), store.DocWrite{Doc: store.Doc{ID: d.ID, Kind: messageKind, AccountID: d.AccountID, Name: d.Name, Body: raw}}, "")
	if err != nil {
		return fmt.Errorf("move message %s: %w", d.ID, err)
	}
	return a.success(w, r, http.StatusOK, messageAnswer(m), saved.Revision, nil)
}

// deleteMessage removes a message and its audio.
func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	docs, d, m, err := a.message(r)
	if err != nil {
		return err
	}
	if _, err := docs.DeleteDoc(r.Context(), messageKind, accountOf(r), d.ID, "", true); err != nil {
		return fmt.Errorf("delete message %s: %w", d.ID, err)
	}
	a.deleteMessageAudio(accountOf(r), d.ID)
	return a.success(w, r, http.StatusOK, messageAnswer(m), "", nil)
}

// deleteMessageAudio removes a message's audio; a failure is logged.
func (a *API) deleteMessageAudio(accountID, id string) {
	if a.media == nil {
		return
	}
	if err := a.media.DeleteMedia(accountID, id); err != nil {
		a.log.Warn("message audio not deleted", "media_id", id, "account_id", accountID, "err", err)
	}
}

// getMessageRaw answers a message's audio as WAV.
func (a *API) getMessageRaw(w http.ResponseWriter, r *http.Request) error {
	if a.media == nil {
		return errNoMedia
	}
	_, d, _, err := a.message(r)
	if err != nil {
		return err
	}
	f, err := a.media.OpenMedia(accountOf(r), d.ID)
	if errors.Is(err, media.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Message: "bad identifier", Data: map[string]any{"cause": "the message has no audio"}, Err: err}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("message %s: %w", d.ID, err)
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, d.ID+".wav", st.ModTime(), f)
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
	docs, box, err := a.messageBox(r)
	if err != nil {
		return err
	}
	meta, audio, ct, err := a.readMessage(r)
	if err != nil {
		return err
	}
	now := a.now().UTC()
	id := now.Format("200601") + "-" + store.NewID()
	stored, err := a.media.StoreMedia(r.Context(), accountOf(r), id, bytes.NewReader(audio), ct)
	if err != nil {
		return mediaError(err)
	}
	m := map[string]any{
		"vmbox_id": box, "media_id": id, "folder": "new",
		"timestamp": gregorian(now), "length": stored.Duration().Milliseconds(),
	}
	for k, maxLen := range messageFields {
		v, ok := meta[k]
		if !ok {
			continue
		}
		s, isStr := v.(string)
		if !isStr || len(s) > maxLen {
			a.deleteMessageAudio(accountOf(r), id)
			return fieldError(http.StatusBadRequest, "validation failed", k, "maxLength", fmt.Sprintf("%s is a string of at most %d characters", k, maxLen))
		}
		m[k] = s
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("message %s: %w", id, err)
	}
	name, _ := m["caller_id_number"].(string)
	if _, err := docs.CreateDoc(r.Context(), store.DocWrite{Doc: store.Doc{ID: id, Kind: messageKind, AccountID: accountOf(r), Name: name, Body: raw}}); err != nil {
		a.deleteMessageAudio(accountOf(r), id)
		return fmt.Errorf("store message %s: %w", id, err)
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
	docs, err := a.documents()
	if err != nil {
		return
	}
	page, _, err := docs.ListDocs(r.Context(), messageKind, accountOf(r), store.DocQuery{Filters: map[string]string{"vmbox_id": box}})
	if err != nil {
		a.log.Warn("messages of a deleted box not listed", "vmbox_id", box, "err", err)
		return
	}
	for _, d := range page {
		if _, err := docs.DeleteDoc(r.Context(), messageKind, accountOf(r), d.ID, "", true); err != nil {
			a.log.Warn("message of a deleted box not deleted", "media_id", d.ID, "err", err)
			continue
		}
		a.deleteMessageAudio(accountOf(r), d.ID)
	}
}

// gregorian is t in Kazoo's seconds since year 0.
func gregorian(t time.Time) int64 { return t.Unix() + gregorianOffset }
