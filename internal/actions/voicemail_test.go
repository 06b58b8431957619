package actions_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/sqlite"
	"github.com/switchboard/switchboard/internal/voicemail"
)

// memAudio is a media library in memory: decoded for real (so a
// message's length is measured), kept by account and id.
type memAudio struct {
	mu  sync.Mutex
	got map[string]time.Duration
}

func (m *memAudio) StoreMedia(ctx context.Context, accountID, id string, r io.Reader, ct string) (media.Audio, error) {
	a, err := media.DecodeReader(ctx, r, ct)
	if err != nil {
		return media.Audio{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got[accountID+"/"+id] = a.Duration()
	return a, nil
}

func (m *memAudio) DeleteMedia(accountID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.got, accountID+"/"+id)
	return nil
}

// vmFixture is a real SQLite store with boxes in two accounts.
type vmFixture struct {
	docs  store.Documents
	audio *memAudio
	vs    *voicemail.Store
}

const (
	vmBoxID    = "0123456789abcdef0123456789abcdef"
	otherBoxID = "fedcba9876543210fedcba9876543210"
)

func newVMFixture(t *testing.T) *vmFixture {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sb.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &vmFixture{docs: db, audio: &memAudio{got: map[string]time.Duration{}}}
	f.vs = &voicemail.Store{Docs: db, Audio: f.audio}
	return f
}

// box stores a vmboxes document; pin, when set, is stored hashed.
func (f *vmFixture) box(t *testing.T, account, id string, body map[string]any, pin string) {
	t.Helper()
	body["id"] = id
	if pin != "" {
		h, err := document.HashSecret(pin)
		if err != nil {
			t.Fatal(err)
		}
		body["pin_hash"] = h
	}
	raw, _ := json.Marshal(body)
	if _, err := f.docs.CreateDoc(t.Context(), store.DocWrite{Doc: store.Doc{Kind: "vmboxes", ID: id, AccountID: account, Name: "box", Body: raw}}); err != nil {
		t.Fatal(err)
	}
}

func (f *vmFixture) run(t *testing.T, node string, info call.Info, inputs ...string) *actionstest.Call {
	t.Helper()
	deps := actionstest.Deps()
	deps.Voicemail = f.vs
	return actionstest.Run(t, actionstest.Flow(t, node), actionstest.Options{Info: info, Script: sim.Script{Inputs: inputs}, Deps: deps})
}

func (f *vmFixture) messages(t *testing.T, account, box string) []voicemail.Message {
	t.Helper()
	ms, err := f.vs.Messages(t.Context(), account, box, "")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func compose(id string, extra string) string {
	return `{"module":"voicemail","data":{"id":"` + id + `"` + extra + `}}`
}

// TestVoicemailCompose: a message is saved with its caller and length, in
// folder new, after the greeting; the caller hears it was saved.
func TestVoicemailCompose(t *testing.T) {
	f := newVMFixture(t)
	f.box(t, actionstest.Account, vmBoxID, map[string]any{"name": "Sales", "mailbox": "3000"}, "")
	info := actionstest.Info()
	info.FromName = "Bob"
	c := f.run(t, compose(vmBoxID, ""), info, "#")
	ms := f.messages(t, actionstest.Account, vmBoxID)
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1\n%s", len(ms), c.Trace.JSONL())
	}
	m := ms[0]
	if m.Folder() != "new" || m["caller_id_number"] != "+15555550100" || m["caller_id_name"] != "Bob" || m.Length() != sim.RecordingLength {
		t.Errorf("message %v", m)
	}
	if m.Timestamp() < voicemail.GregorianOffset {
		t.Errorf("timestamp %d is not in Gregorian seconds", m.Timestamp())
	}
	if f.audio.got[actionstest.Account+"/"+m.ID()] != sim.RecordingLength {
		t.Errorf("audio %v", f.audio.got)
	}
	said := c.Said()
	if !slices.Equal(said, []string{"The person you are calling is not available. Please leave a message after the tone.", "Message saved. Goodbye."}) {
		t.Errorf("said %q", said)
	}
	rec := c.Line(t, "record", 0)
	if rec["play_beep"] != true || rec["finish_on_key"] != "#" {
		t.Errorf("record line %v", rec)
	}
	vm := c.Line(t, "voicemail", 0)
	if vm["saved"] != true || vm["media_id"] != m.ID() || vm["length_ms"] != float64(3000) {
		t.Errorf("voicemail line %v", vm)
	}
	c.WantHangup(t, "NORMAL_CLEARING", "switchboard")
}

// TestVoicemailComposeGreetingAndHangup: the box's own greeting is
// played; a caller who hangs up after speaking still leaves the message.
func TestVoicemailComposeGreetingAndHangup(t *testing.T) {
	f := newVMFixture(t)
	greeting := "abcdefabcdefabcdefabcdefabcdef12"
	f.box(t, actionstest.Account, vmBoxID, map[string]any{"name": "Sales", "mailbox": "3000", "media": map[string]any{"unavailable": greeting}}, "")
	c := f.run(t, compose(vmBoxID, ""), actionstest.Info(), sim.Hangup)
	if p := c.Line(t, "play", 0); p["media_id"] != greeting {
		t.Errorf("play line %v", p)
	}
	if n := len(f.messages(t, actionstest.Account, vmBoxID)); n != 1 {
		t.Errorf("%d messages after a hangup, want 1\n%s", n, c.Trace.JSONL())
	}
}

// TestVoicemailComposeRefused: a too-short message and a full box save
// nothing and say why; an unknown box and another account's box go to the
// "_" child (or end with an apology) with an error line.
func TestVoicemailComposeRefused(t *testing.T) {
	t.Run("too short", func(t *testing.T) {
		f := newVMFixture(t)
		f.box(t, actionstest.Account, vmBoxID, map[string]any{"name": "S", "mailbox": "3000", "max_message_length": 1}, "")
		c := f.run(t, compose(vmBoxID, ""), actionstest.Info(), "")
		if n := len(f.messages(t, actionstest.Account, vmBoxID)); n != 0 {
			t.Errorf("%d messages, want 0", n)
		}
		if said := c.Said(); said[len(said)-1] != "Your message was too short and was not saved. Goodbye." {
			t.Errorf("said %q", said)
		}
		if vm := c.Line(t, "voicemail", 0); vm["saved"] != false || vm["reason"] != "too_short" {
			t.Errorf("voicemail line %v", vm)
		}
	})
	t.Run("full box", func(t *testing.T) {
		f := newVMFixture(t)
		f.box(t, actionstest.Account, vmBoxID, map[string]any{"name": "S", "mailbox": "3000", "max_message_count": 1}, "")
		f.run(t, compose(vmBoxID, ""), actionstest.Info(), "#")
		c := f.run(t, compose(vmBoxID, ""), actionstest.Info(), "#")
		if n := len(f.messages(t, actionstest.Account, vmBoxID)); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
		if said := c.Said(); !slices.Equal(said, []string{"The mailbox is full. Goodbye."}) {
			t.Errorf("said %q", said)
		}
		if slices.Contains(c.Ops(), "record") {
			t.Error("a full box recorded")
		}
	})
	for _, tc := range []struct {
		name, id string
		child    bool
	}{
		{name: "unknown box, no child", id: "00000000000000000000000000000000"},
		{name: "unknown box, child", id: "00000000000000000000000000000000", child: true},
		{name: "another account's box", id: otherBoxID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newVMFixture(t)
			f.box(t, "other-account", otherBoxID, map[string]any{"name": "Theirs", "mailbox": "3000"}, "")
			node := compose(tc.id, "")
			if tc.child {
				node = strings.TrimSuffix(node, "}") + `,"children":{"_":{"module":"tts","data":{"text":"Operator."}}}}`
			}
			c := f.run(t, node, actionstest.Info(), "#")
			if e := c.Line(t, "error", 0); e["code"] != "vmbox_unavailable" {
				t.Errorf("error line %v", e)
			}
			want := "The mailbox is not available. Goodbye."
			if tc.child {
				want = "Operator."
			}
			if said := c.Said(); !slices.Equal(said, []string{want}) {
				t.Errorf("said %q", said)
			}
			if n := len(f.messages(t, "other-account", otherBoxID)); n != 0 {
				t.Errorf("a message crossed into another account's box")
			}
		})
	}
}

// seedMessages leaves n messages in the box through compose.
func (f *vmFixture) seedMessages(t *testing.T, n int) []voicemail.Message {
	t.Helper()
	for range n {
		f.run(t, compose(vmBoxID, ""), actionstest.Info(), "#")
	}
	return f.messages(t, actionstest.Account, vmBoxID)
}

// TestVoicemailCheckPin: three wrong PINs end the call without a word
// about the messages; the right one opens the box.
func TestVoicemailCheckPin(t *testing.T) {
	f := newVMFixture(t)
	f.box(t, actionstest.Account, vmBoxID, map[string]any{"name": "S", "mailbox": "3000"}, "1234")
	f.seedMessages(t, 1)
	check := `{"module":"voicemail","data":{"action":"check","id":"` + vmBoxID + `"}}`
	c := f.run(t, check, actionstest.Info(), "1111#", "2222#", "3333#", "1234#")
	said := c.Said()
	if n := strings.Count(strings.Join(said, "|"), "Invalid login."); n != 3 {
		t.Errorf("said %q", said)
	}
	if said[len(said)-1] != "Goodbye." || slices.ContainsFunc(said, func(s string) bool { return strings.HasPrefix(s, "You have") }) {
		t.Errorf("said %q", said)
	}
	c.WantHangup(t, "NORMAL_CLEARING", "switchboard")

	c = f.run(t, check, actionstest.Info(), "1234#", "#")
	if said := c.Said(); !slices.Contains(said, "You have 1 new message and 0 saved messages.") {
		t.Errorf("said %q", said)
	}
}

// TestVoicemailCheckMenu: by mailbox number and PIN; 7 deletes, 9 saves,
// # hears the next (and marks it heard); 1 replays.
func TestVoicemailCheckMenu(t *testing.T) {
	f := newVMFixture(t)
	f.box(t, actionstest.Account, vmBoxID, map[string]any{"name": "S", "mailbox": "3000"}, "4321")
	f.box(t, "other-account", otherBoxID, map[string]any{"name": "Theirs", "mailbox": "4000"}, "4321")
	ms := f.seedMessages(t, 3)
	if len(ms) != 3 {
		t.Fatalf("%d messages", len(ms))
	}
	// another account's mailbox number is not found, even with its PIN
	c := f.run(t, `{"module":"voicemail","data":{"action":"check"}}`, actionstest.Info(), "4000#", "4321#", "4000#", "4321#", "4000#", "4321#")
	if slices.ContainsFunc(c.Said(), func(s string) bool { return strings.HasPrefix(s, "You have") }) {
		t.Errorf("another account's box opened: %q", c.Said())
	}
	c = f.run(t, `{"module":"voicemail","data":{"action":"check"}}`, actionstest.Info(), "3000#", "4321#", "1", "7", "9", "#")
	if said := c.Said(); !slices.Contains(said, "You have 3 new messages and 0 saved messages.") || !slices.Contains(said, "Message deleted.") || !slices.Contains(said, "Message saved.") {
		t.Errorf("said %q", said)
	}
	plays := c.Find("gather")
	if len(plays) != 6 {
		t.Errorf("%d gathers, want 6 (mailbox, PIN, four message menus: one replay)", len(plays))
	}
	left := f.messages(t, actionstest.Account, vmBoxID)
	if len(left) != 2 {
		t.Fatalf("%d messages left, want 2", len(left))
	}
	for _, m := range left {
		if m.Folder() != "saved" {
			t.Errorf("message %s in %s, want saved", m.ID(), m.Folder())
		}
	}
	if slices.ContainsFunc(left, func(m voicemail.Message) bool { return m.ID() == ms[0].ID() }) {
		t.Error("the deleted (first, newest) message is still there")
	}
}

// TestVoicemailCheckOwnBoxNoPin: the owner's phone opens its box without
// a PIN (*97); a box without a PIN is closed to anyone else, who is asked
// for a mailbox number.
func TestVoicemailCheckOwnBoxNoPin(t *testing.T) {
	f := newVMFixture(t)
	f.box(t, actionstest.Account, vmBoxID, map[string]any{"name": "S", "mailbox": "3000", "owner_id": "alice"}, "")
	info := actionstest.Info()
	info.DeviceID, info.OwnerID = "desk", "alice"
	c := f.run(t, `{"module":"voicemail","data":{"action":"check","single_mailbox_login":true}}`, info)
	if said := c.Said(); !slices.Contains(said, "You have 0 new messages and 0 saved messages.") {
		t.Errorf("said %q", said)
	}
	c = f.run(t, `{"module":"voicemail","data":{"action":"check","single_mailbox_login":true}}`, actionstest.Info(), "3000#", "#")
	if said := c.Said(); slices.ContainsFunc(said, func(s string) bool { return strings.HasPrefix(s, "You have") }) {
		t.Errorf("a stranger opened a box without a PIN: %q", said)
	}
}
