package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/voicemail"
)

func init() {
	engine.Register(engine.Spec{
		Name: "voicemail", Group: "Basic", Label: "Voicemail", Icon: "voicemail",
		Doc:    "Take a message in a voicemail box, or let the caller listen to a box's messages (*97).",
		Schema: schema("voicemail"), Branches: []string{"_"},
		New: func() engine.Action { return new(Voicemail) },
	})
}

// Voicemail is Kazoo's voicemail module. compose (the default) answers,
// plays the box's unavailable greeting (or a spoken one), beeps, records
// until # or silence or the longest message, and saves the recording as a
// new message of the box. check asks for the box (or takes the calling
// phone's owner's, see CalleridMatchLogin) and its PIN, then plays the messages
// with 1 replay, 7 delete, 9 save, # next. Boxes are looked up in the
// call's account only.
type Voicemail struct {
	Action string `json:"action,omitempty"`
	// ID is the vmboxes document.
	ID string `json:"id,omitempty"`
	// MaxMessageLength is the longest message, in seconds (Kazoo's
	// default 500); the box's own max_message_length, when shorter, wins.
	MaxMessageLength  int  `json:"max_message_length,omitempty"`
	InterdigitTimeout int  `json:"interdigit_timeout,omitempty"`
	SkipGreeting      bool `json:"skip_greeting,omitempty"`
	// CalleridMatchLogin and SingleMailboxLogin (check without an id)
	// open the box of the calling phone's owner instead of asking for a
	// mailbox number (*97); with neither, the number is asked (*98).
	CalleridMatchLogin bool `json:"callerid_match_login,omitempty"`
	SingleMailboxLogin bool `json:"single_mailbox_login,omitempty"`
}

// What the caller hears (Kazoo's vm-* prompts, spoken).
const (
	vmDefaultGreeting = "The person you are calling is not available. Please leave a message after the tone."
	vmSaved           = "Message saved. Goodbye."
	vmTooShort        = "Your message was too short and was not saved. Goodbye."
	vmFull            = "The mailbox is full. Goodbye."
	vmUnavailable     = "The mailbox is not available. Goodbye."
	vmEnterBox        = "Please enter your mailbox number, then press pound."
	vmEnterPin        = "Please enter your password, then press pound."
	vmBadLogin        = "Invalid login."
	vmNoPin           = "This mailbox has no password. It can only be checked from its owner's phone."
	vmGoodbye         = "Goodbye."
	vmCount           = "You have %d new %s and %d saved %s."
	vmMessageN        = "Message %d."
	vmMessageMenu     = "Press 1 to replay, 7 to delete, 9 to save, or pound for the next message."
	vmDeleted         = "Message deleted."
	vmKept            = "Message saved."
	vmNoMore          = "No more messages. Goodbye."
)

// Limits of the module (Kazoo's vm defaults where it has them).
const (
	vmDefaultMaxLength = 500 * time.Second
	vmMinLength        = 2 * time.Second // shorter messages are dropped
	vmSilence          = 5 * time.Second // silence that ends a message
	vmLoginTries       = 3               // box numbers and PINs keyed in
	vmMessageRounds    = 5               // menu choices per message
	vmSaveTimeout      = 10 * time.Second
)

var errNoVoicemail = errors.New("no voicemail store configured")

// Exec runs compose or check.
func (a *Voicemail) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	vs := deps(x).Voicemail
	if vs == nil {
		return a.unavailable(ctx, x, errNoVoicemail)
	}
	if a.Action == "check" {
		return a.check(ctx, x, vs)
	}
	return a.compose(ctx, x, vs)
}

// unavailable handles a box that cannot be used: an error line, then the
// "_" child when there is one, else an apology and the end of the call.
func (a *Voicemail) unavailable(ctx context.Context, x *engine.Exec, err error) (string, error) {
	x.Trace.Add("error", "code", "vmbox_unavailable", "message", err.Error(), "module", x.Node.Module, "node", x.Node.Path)
	x.Log.Warn("voicemail box unavailable", "vmbox_id", a.ID, "err", err)
	if x.HasChild("_") {
		return "_", nil
	}
	return a.sayEnd(ctx, x, vmUnavailable)
}

// sayEnd answers, says text and ends the call.
func (a *Voicemail) sayEnd(ctx context.Context, x *engine.Exec, text string) (string, error) {
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	if err := (announcement{text: text}).play(ctx, x); err != nil {
		return "", err
	}
	return engine.BranchEnd, nil
}

// compose takes one message for the box.
func (a *Voicemail) compose(ctx context.Context, x *engine.Exec, vs *voicemail.Store) (string, error) {
	acct := x.Account.ID
	box, err := vs.Box(ctx, acct, a.ID)
	if err != nil {
		return a.unavailable(ctx, x, err)
	}
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	if box.MaxMessageCount > 0 {
		n, saved, err := vs.Count(ctx, acct, box.ID)
		if err != nil {
			return a.unavailable(ctx, x, err)
		}
		if n+saved >= box.MaxMessageCount {
			x.Trace.Add("voicemail", "action", "compose", "vmbox_id", box.ID, "saved", false, "reason", "full", "messages", n+saved)
			return a.sayEnd(ctx, x, vmFull)
		}
	}
	if !a.SkipGreeting && !box.SkipGreeting {
		g := announcement{text: vmDefaultGreeting}
		if box.Unavailable != "" {
			g = announcement{media: box.Unavailable}
		}
		if err := g.play(ctx, x); err != nil {
			if ctx.Err() != nil {
				return "", err
			}
			x.Trace.Add("warning", "code", "greeting_unplayable", "message", err.Error(), "module", x.Node.Module, "node", x.Node.Path)
			if err := (announcement{text: vmDefaultGreeting}).play(ctx, x); err != nil {
				return "", err
			}
		}
	}
	limit := vmDefaultMaxLength
	if a.MaxMessageLength > 0 {
		limit = time.Duration(a.MaxMessageLength) * time.Second
	}
	if b := time.Duration(box.MaxMessageLength) * time.Second; b > 0 && b < limit {
		limit = b
	}
	rec, err := x.Call.Record(ctx, call.RecordOptions{MaxLength: limit, Timeout: vmSilence, FinishOnKey: "#", PlayBeep: true, Trim: true})
	if err != nil && rec.Duration == 0 {
		return "", err
	}
	hungUp := ctx.Err() != nil
	if rec.Path != "" {
		defer os.Remove(rec.Path) // the message keeps its own copy
	}
	if rec.Duration < vmMinLength {
		x.Trace.Add("voicemail", "action", "compose", "vmbox_id", box.ID, "saved", false, "reason", "too_short", "length_ms", rec.Duration.Milliseconds())
		if hungUp {
			return "", context.Cause(ctx)
		}
		return a.sayEnd(ctx, x, vmTooShort)
	}
	if call.IsTestCall(x.Call) {
		// The configurator's test call: the path is shown, nothing is kept.
		x.Trace.Add("voicemail", "action", "compose", "vmbox_id", box.ID, "saved", false, "reason", "test_call", "length_ms", rec.Duration.Milliseconds())
		if hungUp {
			return "", context.Cause(ctx)
		}
		return a.sayEnd(ctx, x, vmSaved)
	}
	// A caller who hangs up after speaking leaves the message: it is
	// saved on a context the hangup does not cancel.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), vmSaveTimeout)
	defer cancel()
	m, err := a.save(sctx, x, vs, acct, box, rec)
	switch {
	case errors.Is(err, voicemail.ErrBoxFull):
		x.Trace.Add("voicemail", "action", "compose", "vmbox_id", box.ID, "saved", false, "reason", "full")
		if hungUp {
			return "", context.Cause(ctx)
		}
		return a.sayEnd(ctx, x, vmFull)
	case err != nil:
		if hungUp {
			return "", err
		}
		return featureFailed(ctx, x, fmt.Errorf("save voicemail: %w", err))
	}
	x.Trace.Add("voicemail", "action", "compose", "vmbox_id", box.ID, "saved", true, "media_id", m.ID(), "length_ms", m.Length().Milliseconds())
	x.Log.Info("voicemail saved", "vmbox_id", box.ID, "media_id", m.ID())
	if hungUp {
		return "", context.Cause(ctx)
	}
	return a.sayEnd(ctx, x, vmSaved)
}

// save stores the recording as a message: the recorded file, or, on a
// simulated call (no file), silence as long as the recording.
func (a *Voicemail) save(ctx context.Context, x *engine.Exec, vs *voicemail.Store, acct string, box voicemail.Box, rec call.Recording) (voicemail.Message, error) {
	var audio io.Reader
	if rec.Path != "" {
		f, err := os.Open(rec.Path)
		if err != nil {
			return nil, fmt.Errorf("open recording: %w", err)
		}
		defer f.Close()
		audio = f
	} else {
		n := int(rec.Duration.Seconds() * codec.Rate)
		audio = bytes.NewReader(wav.Encode(make([]int16, n), codec.Rate))
	}
	info := x.Call.Info()
	meta := map[string]any{"caller_id_number": clip(info.From, 35), "caller_id_name": clip(info.FromName, 35),
		"call_id": clip(info.ID, 256), "from": clip(info.From+"@"+info.FromRealm, 256), "to": clip(info.Request+"@"+info.ToRealm, 256)}
	return vs.Save(ctx, acct, box, meta, audio, "audio/wav")
}

// clip cuts s to n bytes.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// check lets the caller log in to a box and hear its messages.
func (a *Voicemail) check(ctx context.Context, x *engine.Exec, vs *voicemail.Store) (string, error) {
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	box, ok, err := a.login(ctx, x, vs)
	if err != nil || !ok {
		if err == nil {
			err = (announcement{text: vmGoodbye}).play(ctx, x)
		}
		if err != nil {
			return "", err
		}
		return engine.BranchEnd, nil
	}
	acct := x.Account.ID
	newMsgs, err := vs.Messages(ctx, acct, box.ID, voicemail.FolderNew)
	if err != nil {
		return featureFailed(ctx, x, err)
	}
	savedMsgs, err := vs.Messages(ctx, acct, box.ID, voicemail.FolderSaved)
	if err != nil {
		return featureFailed(ctx, x, err)
	}
	x.Trace.Add("voicemail", "action", "check", "vmbox_id", box.ID, "new", len(newMsgs), "saved", len(savedMsgs))
	text := fmt.Sprintf(vmCount, len(newMsgs), plural(len(newMsgs)), len(savedMsgs), plural(len(savedMsgs)))
	if err := (announcement{text: text}).play(ctx, x); err != nil {
		return "", err
	}
	for i, m := range append(newMsgs, savedMsgs...) {
		if err := a.listen(ctx, x, vs, box, i+1, m); err != nil {
			return "", err
		}
	}
	if err := (announcement{text: vmNoMore}).play(ctx, x); err != nil {
		return "", err
	}
	return engine.BranchEnd, nil
}

func plural(n int) string {
	if n == 1 {
		return "message"
	}
	return "messages"
}

// listen plays message n and acts on the caller's key: 1 replays, 7
// deletes, 9 or # or nothing keeps it as saved (heard) and goes on.
func (a *Voicemail) listen(ctx context.Context, x *engine.Exec, vs *voicemail.Store, box voicemail.Box, n int, m voicemail.Message) error {
	acct := x.Account.ID
	for range vmMessageRounds {
		key, err := x.Call.Gather(ctx, call.GatherOptions{NumDigits: 1, Timeout: defaultCollectTimeout, Prompts: []call.Prompt{
			*announcement{text: fmt.Sprintf(vmMessageN, n)}.prompt(x),
			{Play: &call.PlayOptions{MediaID: m.ID(), Loop: 1, Terminators: allKeys}},
			*announcement{text: vmMessageMenu}.prompt(x),
		}})
		if err != nil {
			return err
		}
		switch key {
		case "1":
			continue
		case "7":
			if _, err := vs.Delete(ctx, acct, box.ID, m.ID()); err != nil {
				return fmt.Errorf("delete message %s: %w", m.ID(), err)
			}
			x.Trace.Add("voicemail", "action", "delete", "vmbox_id", box.ID, "media_id", m.ID())
			return (announcement{text: vmDeleted}).play(ctx, x)
		}
		if m.Folder() != voicemail.FolderSaved {
			if _, _, err := vs.SetFolder(ctx, acct, box.ID, m.ID(), voicemail.FolderSaved); err != nil {
				return fmt.Errorf("save message %s: %w", m.ID(), err)
			}
			x.Trace.Add("voicemail", "action", "save", "vmbox_id", box.ID, "media_id", m.ID())
		}
		if key == "9" {
			return (announcement{text: vmKept}).play(ctx, x)
		}
		return nil
	}
	return nil
}

// login finds the box to check and asks its PIN: the node's box, else the
// calling phone's owner's (single_mailbox_login or callerid_match_login),
// else one asked for by mailbox number. A box
// with a PIN asks for it (its owner calling from their own phone is let
// in unless require_pin); a box without a PIN opens only for its owner.
// vmLoginTries wrong answers end the login.
func (a *Voicemail) login(ctx context.Context, x *engine.Exec, vs *voicemail.Store) (voicemail.Box, bool, error) {
	acct, owner := x.Account.ID, x.Call.Info().OwnerID
	var box voicemail.Box
	var err error
	switch {
	case a.ID != "":
		box, err = vs.Box(ctx, acct, a.ID)
	case owner != "" && (a.SingleMailboxLogin || a.CalleridMatchLogin):
		box, err = vs.BoxOfOwner(ctx, acct, owner)
	default:
		err = store.ErrNotFound
	}
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return voicemail.Box{}, false, err
	}
	for try := range vmLoginTries {
		if !known {
			number, err := a.ask(ctx, x, vmEnterBox)
			if err != nil {
				return voicemail.Box{}, false, err
			}
			if box, err = vs.BoxByMailbox(ctx, acct, number); err != nil && !errors.Is(err, store.ErrNotFound) {
				return voicemail.Box{}, false, err
			}
			if err != nil && number != "" {
				// a number naming no box still asks for a PIN, so the
				// answer does not tell which numbers are boxes
				box = voicemail.Box{}
			}
		}
		isOwner := owner != "" && box.OwnerID == owner
		if box.ID != "" && isOwner && !box.RequirePin {
			x.Trace.Add("voicemail", "action", "login", "vmbox_id", box.ID, "by", "owner")
			return box, true, nil
		}
		if box.ID != "" && box.PinHash == "" && !isOwner {
			x.Trace.Add("voicemail", "action", "login", "vmbox_id", box.ID, "ok", false, "reason", "no_pin")
			return voicemail.Box{}, false, (announcement{text: vmNoPin}).play(ctx, x)
		}
		pin, err := a.ask(ctx, x, vmEnterPin)
		if err != nil {
			return voicemail.Box{}, false, err
		}
		if box.ID != "" && box.CheckPin(pin) {
			x.Trace.Add("voicemail", "action", "login", "vmbox_id", box.ID, "by", "pin")
			return box, true, nil
		}
		x.Trace.Add("voicemail", "action", "login", "vmbox_id", box.ID, "ok", false, "reason", "bad_pin", "attempt", try+1)
		if err := (announcement{text: vmBadLogin}).play(ctx, x); err != nil {
			return voicemail.Box{}, false, err
		}
	}
	return voicemail.Box{}, false, nil
}

// ask collects digits ended by # after text.
func (a *Voicemail) ask(ctx context.Context, x *engine.Exec, text string) (string, error) {
	inter := defaultInterdigit
	if a.InterdigitTimeout > 0 {
		inter = ms(a.InterdigitTimeout)
	}
	return x.Call.Gather(ctx, call.GatherOptions{NumDigits: 30, Timeout: defaultCollectTimeout, InterDigitTimeout: inter,
		FinishOnKey: "#", Prompts: announcement{text: text}.prompts(x)})
}

var _ engine.Action = (*Voicemail)(nil)
