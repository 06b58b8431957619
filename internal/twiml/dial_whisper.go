package twiml

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/egress"
)

// WhisperFetcher asks for the documents run on a dialled party's leg
// before the bridge (the url of <Number>, <Sip>, <Client>: a whisper, or a
// screening <Gather>), and the ones their <Gather> actions and
// <Redirect>s lead to.
type WhisperFetcher interface {
	// FetchWhisper returns the TwiML body at r, or an error when the
	// request failed or the answer is not TwiML.
	FetchWhisper(ctx context.Context, r Request) ([]byte, error)
}

// maxWhisperDocs bounds the documents one whisper may chain (Gather
// actions, Redirects), so a loop between them cannot hold a leg forever.
const maxWhisperDocs = 10

// CodeWhisperVerb is Twilio's error for a verb a whisper document may not
// hold (<Dial> in a <Number url> document).
const CodeWhisperVerb = 13201

// sendDigits is a <Number sendDigits> value, keys and 'w' only (the
// parser keeps attributes as written).
func sendDigits(n Noun) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("0123456789*#ABCDabcdwW", r) {
			return r
		}
		return -1
	}, n.Attrs["sendDigits"])
}

// screen is the Screen of a noun with a url: it fetches the document
// and runs it on the called party's leg. The party refused when the
// document hung up (<Hangup>, <Reject>); a document that cannot be
// fetched or parsed refuses too, so the caller is never bridged to a
// party that was to be screened.
func (in *Interpreter) screen(n Noun, base string) func(ctx context.Context, leg call.Channel) (bool, error) {
	raw := strings.TrimSpace(n.Attrs["url"])
	if raw == "" || (n.Kind != "number" && n.Kind != "sip" && n.Kind != "client") {
		return nil // only these nouns have a whisper url (a <Queue url> is the dequeued caller's)
	}
	u, err := resolve(base, raw)
	if err != nil {
		in.Trace.Add("warning", "code", CodeInvalidURL, "message", fmt.Sprintf("url %q of <%s> is not usable: %v", raw, n.Kind, err),
			"verb", "Dial", "attr", "url")
		return nil
	}
	if in.Whisper == nil {
		in.Trace.Add("warning", "code", CodeWhisperVerb, "message", "whisper documents are not run on this call", "verb", "Dial", "attr", "url")
		return nil
	}
	method := "POST"
	if strings.EqualFold(strings.TrimSpace(n.Attrs["method"]), "GET") {
		method = "GET"
	}
	return func(ctx context.Context, leg call.Channel) (bool, error) {
		sl := &screenLeg{Channel: leg}
		log := in.Log
		if log != nil {
			log = log.With("whisper_leg", leg.Info().ID)
		}
		sub := &Interpreter{Call: sl, Trace: in.Trace, Log: log, Vars: noVars{}, Now: in.Now, Media: in.Media}
		params := []Param{{Key: "DialCallSid", Value: call.LegSid(leg.Info().ID)}, {Key: "DialSipCallId", Value: leg.Info().ID},
			{Key: "ParentCallSid", Value: in.Call.Info().ID}}
		req := &Request{URL: u, Method: method, Params: params}
		var docs int
		for req != nil && !sl.refused.Load() {
			if docs++; docs > maxWhisperDocs {
				return false, fmt.Errorf("whisper: more than %d documents", maxWhisperDocs)
			}
			body, err := in.Whisper.FetchWhisper(ctx, *req)
			if err != nil {
				in.whisperLine(leg, u, false, err)
				return false, fmt.Errorf("whisper: %w", err)
			}
			doc, err := Parse(body)
			if err != nil {
				in.whisperLine(leg, u, false, err)
				return false, fmt.Errorf("whisper: %w", err)
			}
			base := req.URL
			req, err = sub.run(ctx, sub.whisperVerbs(doc), base)
			if err != nil {
				in.whisperLine(leg, u, false, err)
				return false, fmt.Errorf("whisper: %w", err)
			}
			if req != nil {
				req.Params = append(req.Params, params...)
			}
		}
		ok := !sl.refused.Load()
		in.whisperLine(leg, u, ok, nil)
		return ok, nil
	}
}

// whisperLine traces how a whisper ended on a leg.
func (in *Interpreter) whisperLine(leg call.Channel, u string, accepted bool, err error) {
	kv := []any{"leg", leg.Info().ID, "url", egress.RedactURL(u), "accepted", accepted}
	if err != nil {
		kv = append(kv, "error", err.Error())
	}
	in.Trace.Add("whisper", kv...)
}

// whisperVerbs are the verbs of a whisper document that may run on the
// called party: Say, Play, Pause, Gather, Redirect, Hangup and Reject.
// The others (a <Dial>, a <Record> …) are left out with a warning, as
// Twilio refuses them there (13201).
func (in *Interpreter) whisperVerbs(doc *Document) []Verb {
	for _, w := range doc.Warnings {
		in.Trace.Add("warning", "code", w.Code, "message", w.Message, "verb", w.Verb, "attr", w.Attr)
	}
	out := make([]Verb, 0, len(doc.Verbs))
	for _, v := range doc.Verbs {
		switch v.(type) {
		case *Say, *Play, *Pause, *Gather, *Redirect, *Hangup, *Reject:
			out = append(out, v)
		default:
			in.Trace.Add("warning", "code", CodeWhisperVerb, "message", fmt.Sprintf("<%s> is not allowed in a whisper document; skipped", v.Name()),
				"verb", v.Name())
		}
	}
	return out
}

// screenLeg is the called party's leg as a whisper document sees it: its
// <Hangup> or <Reject> only marks the party as refusing (the Dial hangs
// the leg up), and it is answered already.
type screenLeg struct {
	call.Channel
	refused atomic.Bool
}

func (l *screenLeg) Answer(context.Context) error { return nil }
func (l *screenLeg) Answered() bool               { return true }

func (l *screenLeg) Hangup(context.Context, string) error {
	l.refused.Store(true)
	return nil
}

func (l *screenLeg) Reject(context.Context, string) error {
	l.refused.Store(true)
	return nil
}

func (l *screenLeg) Dial(context.Context, call.DialOptions) (call.DialResult, error) {
	return call.DialResult{Status: "failed"}, errors.New("whisper: <Dial> is not allowed on a called party's leg")
}

// Unwrap gives the leg, so its optional interfaces are found.
func (l *screenLeg) Unwrap() call.Channel { return l.Channel }

// noVars drops a whisper document's variables: they belong to the
// caller's session, not to the called party's leg.
type noVars struct{}

func (noVars) Set(string, string) {}

// dialRecordingStatus sends <Dial recordingStatusCallback> its event
// once the bridged call's recording is ready: "completed" with the
// recording, or "absent" when nothing was recorded and the events ask
// for it.
func (in *Interpreter) dialRecordingStatus(ctx context.Context, v *Dial, base string, res call.DialResult) {
	cb := strings.TrimSpace(v.Attrs["recordingStatusCallback"])
	if cb == "" || in.Notify == nil || v.Record == "" || v.Record == "do-not-record" {
		return
	}
	events := strings.Fields(strings.ReplaceAll(strings.ToLower(v.Attrs["recordingStatusCallbackEvent"]), ",", " "))
	if len(events) == 0 {
		events = []string{"completed"}
	}
	status := "completed"
	if res.Recording == nil || res.Recording.Duration <= 0 {
		status = "absent"
	}
	if !slices.Contains(events, status) {
		return
	}
	u, err := resolve(base, cb)
	if err != nil {
		in.Trace.Add("warning", "code", CodeInvalidURL, "message", "recordingStatusCallback is not usable: "+err.Error(), "verb", "Dial")
		return
	}
	method := "POST"
	if strings.EqualFold(v.Attrs["recordingStatusCallbackMethod"], "GET") {
		method = "GET"
	}
	channels := "1"
	if strings.HasSuffix(v.Record, "-dual") {
		channels = "2"
	}
	params := []Param{{Key: "RecordingStatus", Value: status}, {Key: "RecordingSource", Value: "DialVerb"},
		{Key: "RecordingChannels", Value: channels}}
	if res.Recording != nil {
		params = append(params,
			Param{Key: "RecordingSid", Value: recordingSid(in.Call.Info().AccountID, res.Recording.URL)},
			Param{Key: "RecordingUrl", Value: res.Recording.URL},
			Param{Key: "RecordingDuration", Value: strconv.Itoa(int(res.Recording.Duration.Round(time.Second) / time.Second))})
	}
	in.Notify.Notify(context.WithoutCancel(ctx), Request{URL: u, Method: method, Params: params})
}
