// Package voicemail keeps voicemail boxes' messages, for both the REST API
// (…/vmboxes/{id}/messages) and a call's voicemail module: a message is a
// stored document of the hidden kind vmbox_messages (metadata with Kazoo's
// field names: caller_id_number, caller_id_name, timestamp in Gregorian
// seconds, length in milliseconds, folder new/saved) and its audio in the
// account's media library under the message's media_id. Every lookup is
// made in one account, so no account reaches another's box or messages.
package voicemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/store"
)

// MessageKind is the store kind of voicemail messages; it has no document
// routes of its own.
const MessageKind = "vmbox_messages"

// BoxKind is the store kind of voicemail boxes.
const BoxKind = "vmboxes"

// GregorianOffset is the seconds from year 0 to the Unix epoch: Kazoo's
// timestamps count from year 0.
const GregorianOffset = 62167219200

// Folders a message may be in: new until heard, then saved.
const (
	FolderNew   = "new"
	FolderSaved = "saved"
)

// Folders are the folders an admin or a caller may move a message to.
var Folders = []string{FolderNew, FolderSaved}

// ErrBoxFull is returned by Save when the box holds max_message_count
// messages already.
var ErrBoxFull = errors.New("the voicemail box is full")

// ErrNoAudio is returned by Save when no media library is configured.
var ErrNoAudio = errors.New("no media library for voicemail audio")

// Audio keeps messages' audio (media.Manager does); the store is told only
// about accounts and ids, so one account's audio stays its own.
type Audio interface {
	StoreMedia(ctx context.Context, accountID, id string, r io.Reader, contentType string) (media.Audio, error)
	DeleteMedia(accountID, id string) error
}

// Store reads and writes boxes and messages; both fields are needed to
// save a message, Docs alone to read.
type Store struct {
	Docs  store.Documents
	Audio Audio
	// Now is the clock of new messages' timestamps; time.Now when nil.
	Now func() time.Time
}

// Box is the part of a vmboxes document a call and the message store use.
type Box struct {
	ID, Name, Mailbox, OwnerID string
	// PinHash is the stored hash of the box's PIN ("" when none is set).
	PinHash    string
	RequirePin bool
	// MaxMessageCount is the most messages kept (new + saved); 0 is no
	// limit.
	MaxMessageCount int
	// MaxMessageLength is the longest message, in seconds; 0 is the
	// caller's choice.
	MaxMessageLength int
	// Unavailable is the media id of the box's unavailable greeting.
	Unavailable      string
	SkipGreeting     bool
	SkipInstructions bool
}

// CheckPin reports whether pin is the box's PIN; a box with no PIN accepts
// none but the empty one.
func (b Box) CheckPin(pin string) bool {
	if b.PinHash == "" {
		return pin == ""
	}
	return document.CheckSecret(b.PinHash, pin)
}

// Box reads box id of the account; a missing box (or one of another
// account) wraps store.ErrNotFound.
func (s *Store) Box(ctx context.Context, accountID, id string) (Box, error) {
	d, err := s.Docs.GetDoc(ctx, BoxKind, accountID, id)
	if err != nil {
		return Box{}, fmt.Errorf("voicemail box %s: %w", id, err)
	}
	if d.Kind != BoxKind || d.AccountID != accountID {
		return Box{}, fmt.Errorf("voicemail box %s: %w", id, store.ErrNotFound)
	}
	m, err := document.Decode(d.Body)
	if err != nil {
		return Box{}, fmt.Errorf("voicemail box %s: %w", id, err)
	}
	b := Box{ID: d.ID, Name: str(m, "name"), Mailbox: str(m, "mailbox"), OwnerID: str(m, "owner_id"),
		PinHash: str(m, "pin_hash"), RequirePin: flag(m, "require_pin"),
		MaxMessageCount: num(m, "max_message_count"), MaxMessageLength: num(m, "max_message_length"),
		SkipGreeting: flag(m, "skip_greeting"), SkipInstructions: flag(m, "skip_instructions")}
	if md, ok := m["media"].(map[string]any); ok {
		b.Unavailable = str(md, "unavailable")
	}
	return b, nil
}

// BoxByMailbox finds the account's box whose mailbox number is mailbox.
func (s *Store) BoxByMailbox(ctx context.Context, accountID, mailbox string) (Box, error) {
	page, _, err := s.Docs.ListDocs(ctx, BoxKind, accountID, store.DocQuery{Filters: map[string]string{"mailbox": mailbox}})
	if err != nil {
		return Box{}, fmt.Errorf("voicemail box %s: %w", mailbox, err)
	}
	if len(page) == 0 {
		return Box{}, fmt.Errorf("voicemail box %s: %w", mailbox, store.ErrNotFound)
	}
	return s.Box(ctx, accountID, page[0].ID)
}

// BoxOfOwner finds the account's first box owned by user ownerID.
func (s *Store) BoxOfOwner(ctx context.Context, accountID, ownerID string) (Box, error) {
	if ownerID == "" {
		return Box{}, fmt.Errorf("voicemail box of no owner: %w", store.ErrNotFound)
	}
	page, _, err := s.Docs.ListDocs(ctx, BoxKind, accountID, store.DocQuery{Filters: map[string]string{"owner_id": ownerID}})
	if err != nil {
		return Box{}, fmt.Errorf("voicemail box of %s: %w", ownerID, err)
	}
	if len(page) == 0 {
		return Box{}, fmt.Errorf("voicemail box of %s: %w", ownerID, store.ErrNotFound)
	}
	return s.Box(ctx, accountID, page[0].ID)
}

// Message is one message's metadata as stored (Kazoo's field names, plus
// vmbox_id).
type Message map[string]any

// ID is the message's media_id.
func (m Message) ID() string { return str(m, "media_id") }

// Folder is new or saved.
func (m Message) Folder() string { return str(m, "folder") }

// Timestamp is the message's Gregorian seconds.
func (m Message) Timestamp() int64 { return int64(num(m, "timestamp")) }

// Length is the message's length.
func (m Message) Length() time.Duration { return time.Duration(num(m, "length")) * time.Millisecond }

// Messages lists the box's messages, newest first; folder "" lists all.
func (s *Store) Messages(ctx context.Context, accountID, boxID, folder string) ([]Message, error) {
	q := store.DocQuery{Filters: map[string]string{"vmbox_id": boxID}}
	if folder != "" {
		q.Filters["folder"] = folder
	}
	page, _, err := s.Docs.ListDocs(ctx, MessageKind, accountID, q)
	if err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", boxID, err)
	}
	out := make([]Message, 0, len(page))
	for _, d := range page {
		m, err := document.Decode(d.Body)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", d.ID, err)
		}
		if m["vmbox_id"] != boxID {
			continue
		}
		out = append(out, Message(m))
	}
	slices.SortStableFunc(out, func(x, y Message) int {
		switch tx, ty := x.Timestamp(), y.Timestamp(); {
		case tx > ty:
			return -1
		case tx < ty:
			return 1
		}
		return 0
	})
	return out, nil
}

// Count is the box's new and saved messages.
func (s *Store) Count(ctx context.Context, accountID, boxID string) (newCount, saved int, err error) {
	all, err := s.Messages(ctx, accountID, boxID, "")
	if err != nil {
		return 0, 0, err
	}
	for _, m := range all {
		if m.Folder() == FolderNew {
			newCount++
		} else {
			saved++
		}
	}
	return newCount, saved, nil
}

// Message reads one message of the box; another box's is not found.
func (s *Store) Message(ctx context.Context, accountID, boxID, id string) (Message, string, error) {
	d, err := s.Docs.GetDoc(ctx, MessageKind, accountID, id)
	if err != nil {
		return nil, "", fmt.Errorf("message %s: %w", id, err)
	}
	m, err := document.Decode(d.Body)
	if err != nil {
		return nil, "", fmt.Errorf("message %s: %w", d.ID, err)
	}
	if d.Kind != MessageKind || m["vmbox_id"] != boxID {
		return nil, "", fmt.Errorf("message %s of another box: %w", d.ID, store.ErrNotFound)
	}
	return Message(m), d.Revision, nil
}

// Save stores a new message in the box: audio (WAV or MP3, contentType
// may be empty) into the media library, then its metadata (meta's keys are
// Kazoo's caller_id_number, caller_id_name …) in folder new, with the
// timestamp now and the length measured from the audio. A full box
// (max_message_count) refuses with ErrBoxFull before anything is stored.
// A failed metadata write removes the audio again.
func (s *Store) Save(ctx context.Context, accountID string, box Box, meta map[string]any, audio io.Reader, contentType string) (Message, error) {
	if s.Audio == nil {
		return nil, ErrNoAudio
	}
	if box.MaxMessageCount > 0 {
		n, saved, err := s.Count(ctx, accountID, box.ID)
		if err != nil {
			return nil, err
		}
		if n+saved >= box.MaxMessageCount {
			return nil, fmt.Errorf("box %s holds %d messages: %w", box.ID, n+saved, ErrBoxFull)
		}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()
	id := t.Format("200601") + "-" + store.NewID()
	stored, err := s.Audio.StoreMedia(ctx, accountID, id, audio, contentType)
	if err != nil {
		return nil, err
	}
	m := Message{}
	for k, v := range meta {
		m[k] = v
	}
	m["vmbox_id"], m["media_id"], m["folder"] = box.ID, id, FolderNew
	m["timestamp"], m["length"] = Gregorian(t), stored.Duration().Milliseconds()
	raw, err := json.Marshal(m)
	if err != nil {
		s.deleteAudio(accountID, id)
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	name, _ := m["caller_id_number"].(string)
	if _, err := s.Docs.CreateDoc(ctx, store.DocWrite{Doc: store.Doc{ID: id, Kind: MessageKind, AccountID: accountID, Name: name, Body: raw}}); err != nil {
		s.deleteAudio(accountID, id)
		return nil, fmt.Errorf("store message %s: %w", id, err)
	}
	return m, nil
}

// SetFolder moves a message of the box to folder (new or saved).
func (s *Store) SetFolder(ctx context.Context, accountID, boxID, id, folder string) (Message, string, error) {
	if !slices.Contains(Folders, folder) {
		return nil, "", fmt.Errorf("folder %q is not one of %v", folder, Folders)
	}
	m, _, err := s.Message(ctx, accountID, boxID, id)
	if err != nil {
		return nil, "", err
	}
	m["folder"] = folder
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, "", fmt.Errorf("message %s: %w", id, err)
	}
	name, _ := m["caller_id_number"].(string)
	saved, err := s.Docs.UpdateDoc(ctx, store.DocWrite{Doc: store.Doc{ID: id, Kind: MessageKind, AccountID: accountID, Name: name, Body: raw}}, "")
	if err != nil {
		return nil, "", fmt.Errorf("move message %s: %w", id, err)
	}
	return m, saved.Revision, nil
}

// Delete removes a message of the box and its audio.
func (s *Store) Delete(ctx context.Context, accountID, boxID, id string) (Message, error) {
	m, _, err := s.Message(ctx, accountID, boxID, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.Docs.DeleteDoc(ctx, MessageKind, accountID, id, "", true); err != nil {
		return nil, fmt.Errorf("delete message %s: %w", id, err)
	}
	s.deleteAudio(accountID, id)
	return m, nil
}

// deleteAudio removes a message's audio; a missing library or file is
// not an error worth failing for (the metadata is what lists it).
func (s *Store) deleteAudio(accountID, id string) {
	if s.Audio != nil {
		_ = s.Audio.DeleteMedia(accountID, id)
	}
}

// Gregorian is t in Kazoo's seconds since year 0.
func Gregorian(t time.Time) int64 { return t.Unix() + GregorianOffset }

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func flag(m map[string]any, k string) bool {
	b, _ := m[k].(bool)
	return b
}

func num(m map[string]any, k string) int {
	switch v := m[k].(type) {
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	case float64:
		return int(v)
	case int64:
		return int(v)
	case int:
		return v
	}
	return 0
}
