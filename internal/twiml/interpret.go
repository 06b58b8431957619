package twiml

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/egress"
)

// Interpreter runs parsed TwiML documents on one call, verb by verb, and
// says which document comes next; fetching it is its caller's job (the
// pivot action, with its fallback and failure policy), so that this
// package never makes a webhook request of its own but the wait documents
// of <Enqueue> (through Wait) and the whisper documents of <Dial> nouns
// (through Whisper).
type Interpreter struct {
	// Call is the running call (traced).
	Call call.Channel
	// Trace receives the lines that are not Channel operations (warning,
	// redirect, set, sms, enqueue, dequeue, a queue's dial).
	Trace *call.Trace
	// Log carries the call's attributes.
	Log *slog.Logger
	// Vars keep <Set><Variable> and <Redirect>'s variables, sent with
	// every later request.
	Vars Vars
	// Now is the call's clock (a simulated call's jumps over waits).
	Now func() time.Time
	// Queues hold the callers of <Enqueue>; nil makes <Enqueue> fail and
	// <Dial><Queue> find nobody.
	Queues *Queues
	// Wait fetches an <Enqueue>'s wait documents.
	Wait WaitFetcher
	// Notify sends the status callbacks whose answer is ignored
	// (recordingStatusCallback); nil sends none.
	Notify Notifier
	// Media, when set, maps a media URL of the account's own (a recording
	// link) to what Play reads directly ("recording:<name>"), so it needs
	// no credentials and never expires; ok false leaves the URL as is.
	Media func(accountID, url string) (local string, ok bool)
	// Speech says the call can recognise speech; without it a Gather
	// with input="speech" gathers DTMF only and says so in the trace.
	Speech bool
	// Whisper fetches the documents a <Dial> noun's url runs on the
	// called party before the bridge; nil bridges without them (a
	// warning says so).
	Whisper WhisperFetcher
}

// Notifier sends a status callback (a request whose answer is not TwiML
// and is ignored), such as <Record recordingStatusCallback>.
type Notifier interface {
	// Notify sends r and returns once it was answered or failed; a
	// failure is the notifier's to log.
	Notify(ctx context.Context, r Request)
}

// Vars are the call's variables as the interpreter changes them
// (engine.Vars).
type Vars interface {
	Set(key, value string)
}

// WaitFetcher asks for the wait document (waitUrl) of an <Enqueue> while
// the caller waits. These requests are not documents of the call: they do
// not count against its limit, and a failure only stops the wait music.
type WaitFetcher interface {
	// FetchWait returns the TwiML body at r, or an error when the request
	// failed or the answer is not TwiML.
	FetchWait(ctx context.Context, r Request) ([]byte, error)
}

// Param is one callback parameter of a verb (Digits, RecordingUrl …).
type Param struct {
	// Key is Twilio's parameter name; Value what the verb collected.
	Key, Value string
}

// Request is the next document to fetch: a verb's action or a <Redirect>.
type Request struct {
	// URL is absolute, resolved against the document's.
	URL string
	// Method is GET or POST, as the verb says.
	Method string
	// Params are the verb's callback parameters, sent besides the call's.
	Params []Param
	// AfterHangup is set when the caller hung up during <Record>: the
	// action is still requested, its answer ignored, and the call ends.
	AfterHangup bool
}

// Run writes the document's warnings to the trace and executes its verbs
// in order, on base (the document's URL: the base of relative URLs and the
// verbs' default action). It returns the next document to fetch, or nil
// when the document ended the call or ran out (Twilio hangs up then).
func (in *Interpreter) Run(ctx context.Context, doc *Document, base string) (*Request, error) {
	for _, w := range doc.Warnings {
		in.Trace.Add("warning", "code", w.Code, "message", w.Message, "verb", w.Verb, "attr", w.Attr)
	}
	return in.run(ctx, doc.Verbs, base)
}

// run executes verbs in order (Run).
func (in *Interpreter) run(ctx context.Context, verbs []Verb, base string) (*Request, error) {
	ch := in.Call
	for _, v := range verbs {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var (
			next *Request
			end  bool
			err  error
		)
		switch v := v.(type) {
		case *Say:
			err = in.answerThen(ctx, func() error {
				return ch.Say(ctx, call.SayOptions{Text: v.Text, Voice: v.Voice, Language: v.Language, Loop: v.Loop})
			})
		case *Play:
			err = in.answerThen(ctx, func() error { return in.play(ctx, v, base) })
		case *Pause:
			err = ch.Pause(ctx, v.Length) // a first Pause waits before answering, as Twilio
		case *Gather:
			next, err = in.gather(ctx, v, base)
		case *Record:
			next, end, err = in.record(ctx, v, base)
		case *Dial:
			next, err = in.dial(ctx, v, base)
		case *Redirect:
			next, err = in.redirect(v, base)
		case *Hangup:
			err = in.answerThen(ctx, func() error { return ch.Hangup(ctx, "NORMAL_CLEARING") })
			end = true
		case *Reject:
			err, end = in.reject(ctx, v), true
		case *Enqueue:
			next, end, err = in.enqueue(ctx, v, base)
		case *Leave:
			in.Trace.Add("warning", "code", 14201, "message", "<Leave> outside a queue's wait document does nothing", "verb", "Leave")
		case *Sms:
			next, err = in.sms(v, base)
		case *Set:
			in.set(v.Variables)
		case *Refer:
			next, err = in.refer(ctx, v, base)
		default:
			in.Trace.Add("warning", "code", CodeSchema, "message", "verb not supported here", "verb", v.Name())
		}
		if err != nil || next != nil || end {
			return next, err
		}
	}
	return nil, nil
}

// answerThen answers the call (media verbs do) and runs fn.
func (in *Interpreter) answerThen(ctx context.Context, fn func() error) error {
	if err := in.Call.Answer(ctx); err != nil {
		return err
	}
	return fn()
}

func (in *Interpreter) play(ctx context.Context, v *Play, base string) error {
	_, err := in.playReport(ctx, v, base)
	return err
}

// playReport plays v; unplayable is set when the media could not be
// played and an error line was traced instead (the next verb runs).
func (in *Interpreter) playReport(ctx context.Context, v *Play, base string) (unplayable bool, err error) {
	if v.Digits != "" {
		return false, in.Call.Play(ctx, call.PlayOptions{Digits: v.Digits, Loop: 1})
	}
	u, err := resolve(base, v.URL)
	if err != nil || v.URL == "" {
		in.Trace.Add("warning", "code", 13420, "message", fmt.Sprintf("<Play> has no usable URL %q", v.URL), "verb", "Play")
		return true, nil
	}
	perr := in.Call.Play(ctx, call.PlayOptions{URL: in.localMedia(u), Loop: v.Loop})
	err = in.mediaFailure(ctx, perr, "Play", u, false)
	return perr != nil && err == nil, err
}

// localMedia is what Play fetches: the account's own recordings are read
// from its recordings (Media), so they always play whatever their link
// says.
func (in *Interpreter) localMedia(u string) string {
	if in.Media == nil {
		return u
	}
	if local, ok := in.Media(in.Call.Info().AccountID, u); ok {
		return local
	}
	return u
}

// codedError is an error that carries Twilio's code (media.Error does).
type codedError interface {
	error
	TwilioCode() int
}

// mediaFailure turns media that cannot be played (an unsupported format,
// a failed fetch: errors carrying Twilio's code) into a trace error line,
// and lets the next verb run, as Twilio does; other errors are returned.
// inGather reports the format failure as 13325, Twilio's code there.
func (in *Interpreter) mediaFailure(ctx context.Context, err error, verb, url string, inGather bool) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	ce, ok := errors.AsType[codedError](err)
	if !ok || ce.TwilioCode() == 0 {
		return err
	}
	code := ce.TwilioCode()
	if inGather && code == 13420 {
		code = 13325
	}
	in.Trace.Add("error", "code", code, "message", err.Error(), "verb", verb, "url", url)
	in.Log.Warn("media cannot be played", "verb", verb, "url", url, "code", code, "err", err)
	return nil
}

// prompts turns a Gather's nested verbs into prompts.
func (in *Interpreter) prompts(nested []Verb, base string) []call.Prompt {
	var out []call.Prompt
	for _, n := range nested {
		switch n := n.(type) {
		case *Say:
			out = append(out, call.Prompt{Say: &call.SayOptions{Text: n.Text, Voice: n.Voice, Language: n.Language, Loop: n.Loop}})
		case *Play:
			if u, err := resolve(base, n.URL); err == nil && n.URL != "" {
				out = append(out, call.Prompt{Play: &call.PlayOptions{URL: in.localMedia(u), Loop: n.Loop}})
			}
		case *Pause:
			out = append(out, call.Prompt{Pause: n.Length})
		}
	}
	return out
}

// gather collects digits. With digits (or actionOnEmptyResult) the action
// is requested — the current document when no action was given; without
// them the next verb runs.
func (in *Interpreter) gather(ctx context.Context, v *Gather, base string) (*Request, error) {
	if err := in.Call.Answer(ctx); err != nil {
		return nil, err
	}
	if strings.Contains(v.Input, "speech") && !in.Speech {
		in.Trace.Add("warning", "code", 13326, "message",
			fmt.Sprintf("<Gather input=%q>: speech recognition is not available on this call; only keys are collected", v.Input),
			"verb", "Gather", "attr", "input")
	}
	var result call.GatherResult
	digits, err := in.Call.Gather(ctx, call.GatherOptions{
		NumDigits: v.NumDigits, Timeout: v.Timeout, FinishOnKey: v.FinishOnKey, Prompts: in.prompts(v.Nested, base),
		Result: &result,
	})
	for _, perr := range result.PromptErrors {
		if ferr := in.mediaFailure(ctx, perr, "Gather", "", true); ferr != nil {
			in.Log.Warn("gather prompt failed", "err", ferr)
		}
	}
	if err != nil {
		return nil, err
	}
	if digits == "" && !v.ActionOnEmptyResult {
		return nil, nil
	}
	u, err := in.actionURL(base, v.Action, v.ActionSet, "Gather")
	if err != nil {
		return nil, err
	}
	var params []Param
	if digits != "" { // actionOnEmptyResult with no input: no Digits, as Twilio
		params = []Param{{Key: "Digits", Value: digits}}
	}
	params = append(params, Param{Key: "FinishedOnKey", Value: result.FinishedOnKey})
	return &Request{URL: u, Method: v.Method, Params: params}, nil
}

// actionURL resolves an action; absent, it is the current document.
func (in *Interpreter) actionURL(base, action string, set bool, verb string) (string, error) {
	if !set || action == "" {
		return base, nil
	}
	u, err := resolve(base, action)
	if err != nil {
		return "", &Error{Code: CodeInvalidURL, Message: fmt.Sprintf("<%s action=%q>: %v", verb, action, err)}
	}
	return u, nil
}

// record records the caller. An empty recording (no audio, no key) goes on
// to the next verb, as Twilio and Kazoo; otherwise the action gets the
// recording. When the caller hung up during it, the action is still
// requested (CallStatus completed, AfterHangup) and the call ends.
func (in *Interpreter) record(ctx context.Context, v *Record, base string) (*Request, bool, error) {
	if err := in.Call.Answer(ctx); err != nil {
		return nil, false, err
	}
	rec, err := in.Call.Record(ctx, call.RecordOptions{
		MaxLength: v.MaxLength, Timeout: v.Timeout, FinishOnKey: v.FinishOnKey, PlayBeep: v.PlayBeep, Trim: v.Trim != "do-not-trim",
	})
	if err != nil {
		return nil, false, err
	}
	if rec.Duration < 500*time.Millisecond && rec.Digits != "hangup" {
		return nil, false, nil
	}
	u, err := in.actionURL(base, v.Action, v.ActionSet, "Record")
	if err != nil {
		return nil, false, err
	}
	sid := recordingSid(in.Call.Info().AccountID, rec.URL)
	duration := strconv.Itoa(int(rec.Duration.Round(time.Second) / time.Second))
	params := []Param{
		{Key: "RecordingUrl", Value: rec.URL},
		{Key: "RecordingDuration", Value: duration},
		{Key: "RecordingSid", Value: sid},
		{Key: "Digits", Value: rec.Digits},
	}
	in.recordingStatus(ctx, v, base, rec.URL, sid, duration)
	if rec.Digits == "hangup" || ctx.Err() != nil {
		params = append(params, Param{Key: "CallStatus", Value: "completed"})
		return &Request{URL: u, Method: v.Method, Params: params, AfterHangup: true}, true, nil
	}
	return &Request{URL: u, Method: v.Method, Params: params}, false, nil
}

// recordingSid is the recording's RE… id, from its file name (the last
// segment of its URL, extension aside), as the API derives it.
func recordingSid(accountID, u string) string {
	if u == "" {
		return ""
	}
	p := u
	if pu, err := url.Parse(u); err == nil && pu.Path != "" {
		p = pu.Path
	}
	return call.RecordingSid(accountID, path.Base(p))
}

// recordingStatus sends <Record recordingStatusCallback> its completed
// event: AccountSid and CallSid come with the call's parameters.
func (in *Interpreter) recordingStatus(ctx context.Context, v *Record, base, recURL, sid, duration string) {
	if v.RecordingStatusCallback == "" || in.Notify == nil {
		return
	}
	u, err := resolve(base, v.RecordingStatusCallback)
	if err != nil {
		in.Trace.Add("warning", "code", CodeInvalidURL, "message", "recordingStatusCallback is not usable: "+err.Error(), "verb", "Record")
		return
	}
	method := "POST"
	if strings.EqualFold(v.Attrs["recordingStatusCallbackMethod"], "GET") {
		method = "GET"
	}
	in.Notify.Notify(context.WithoutCancel(ctx), Request{URL: u, Method: method, Params: []Param{
		{Key: "RecordingSid", Value: sid}, {Key: "RecordingUrl", Value: recURL},
		{Key: "RecordingStatus", Value: "completed"}, {Key: "RecordingDuration", Value: duration},
		{Key: "RecordingChannels", Value: "1"}, {Key: "RecordingSource", Value: "RecordVerb"},
	}})
}

// dialCallSid is DialCallSid: Twilio's shape of the leg's id (its SIP
// Call-ID goes in DialSipCallId), or the dequeued call's own CallSid.
func dialCallSid(callID string, queued bool) string {
	if queued {
		return callID
	}
	return call.LegSid(callID)
}

// dial rings the nouns; with an action, the action gets the outcome, else
// the next verb runs.
func (in *Interpreter) dial(ctx context.Context, v *Dial, base string) (*Request, error) {
	if !v.AnswerOnBridge {
		if err := in.Call.Answer(ctx); err != nil {
			return nil, err
		}
	}
	var (
		res call.DialResult
		err error
	)
	var queueParams []Param
	q, queued := queueNoun(v.Nouns)
	if queued {
		res, queueParams, err = in.dequeue(ctx, v, q, base)
	} else if len(v.Nouns) == 0 {
		res.Status = "failed" // nothing to dial: no call is made (the parser warned, 13215)
	} else {
		targets := make([]call.Target, 0, len(v.Nouns))
		for _, n := range v.Nouns {
			targets = append(targets, call.Target{Kind: n.Kind, Value: n.Value, Headers: parameterHeaders(n.Parameters),
				SendDigits: sendDigits(n), Screen: in.screen(n, base)})
		}
		strategy := "simultaneous"
		if v.Sequential {
			strategy = "single"
		}
		res, err = in.Call.Dial(ctx, call.DialOptions{
			Targets: targets, Timeout: v.Timeout, CallerID: v.CallerID, TimeLimit: v.TimeLimit,
			HangupOnStar: v.HangupOnStar, Record: v.Record != "" && v.Record != "do-not-record", Strategy: strategy,
			RingTone:          v.Attrs["ringTone"],
			RecordFromRinging: strings.HasPrefix(v.Record, "record-from-ringing"),
			RecordDual:        strings.HasSuffix(v.Record, "-dual"),
		})
	}
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	if err != nil {
		res.Status = "failed"
		if errors.Is(err, egress.ErrRefused) {
			// Never a silent drop: the trace says which policy stopped the call.
			in.Trace.Add("error", "code", "egress_refused", "message", err.Error(), "verb", "Dial")
		}
	}
	in.dialRecordingStatus(ctx, v, base, res)
	if !v.ActionSet {
		return nil, nil
	}
	u, uerr := in.actionURL(base, v.Action, true, "Dial")
	if uerr != nil {
		return nil, uerr
	}
	status := res.Status
	if status == "answered" {
		status = "completed"
	}
	params := []Param{
		{Key: "DialCallStatus", Value: status},
		{Key: "DialCallSid", Value: dialCallSid(res.CallID, queued)},
		{Key: "DialCallDuration", Value: strconv.Itoa(int(res.Duration.Round(time.Second) / time.Second))},
		{Key: "DialBridged", Value: strconv.FormatBool(status == "completed")},
	}
	if !queued {
		// Twilio's name for the leg's SIP Call-ID (what DialCallSid was
		// before it took Twilio's shape); Kazoo's Dial-Call-ID.
		params = append(params, Param{Key: "DialSipCallId", Value: res.CallID})
	}
	if res.Recording != nil {
		params = append(params, Param{Key: "RecordingUrl", Value: res.Recording.URL},
			Param{Key: "RecordingSid", Value: recordingSid(in.Call.Info().AccountID, res.Recording.URL)},
			Param{Key: "RecordingDuration", Value: strconv.Itoa(int(res.Recording.Duration.Round(time.Second) / time.Second))})
	}
	return &Request{URL: u, Method: v.Method, Params: append(params, queueParams...)}, nil
}

func queueNoun(nouns []Noun) (Noun, bool) {
	for _, n := range nouns {
		if n.Kind == "queue" {
			return n, true
		}
	}
	return Noun{}, false
}

func (in *Interpreter) redirect(v *Redirect, base string) (*Request, error) {
	in.set(v.Variables)
	u, err := resolve(base, v.URL) // "" is the current document (RFC 3986), as Twilio's <Redirect/>
	if err != nil {
		return nil, &Error{Code: CodeInvalidURL, Message: fmt.Sprintf("<Redirect>%s</Redirect>: %v", v.URL, err)}
	}
	in.Trace.Add("redirect", "url", egress.RedactURL(u), "method", v.Method)
	return &Request{URL: u, Method: v.Method}, nil
}

// reject refuses the call before it is answered; after, it only hangs up.
func (in *Interpreter) reject(ctx context.Context, v *Reject) error {
	ch := in.Call
	cause := "CALL_REJECTED"
	if v.Reason == "busy" {
		cause = "USER_BUSY"
	}
	if ch.Answered() {
		in.Trace.Add("warning", "code", 13810, "message", "<Reject> after the call was answered only hangs up", "verb", "Reject")
		return ch.Hangup(ctx, cause)
	}
	if err := ch.Reject(ctx, v.Reason); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ch.Hangup(context.WithoutCancel(ctx), cause)
}

// sms is traced, not sent: Switchboard has no SMS carrier.
func (in *Interpreter) sms(v *Sms, base string) (*Request, error) {
	info := in.Call.Info()
	to := cmp.Or(v.To, info.From)
	from := cmp.Or(v.From, info.To, info.Request)
	in.Trace.Add("sms", "to", to, "from", from, "body", v.Body, "status", "sent")
	if !v.ActionSet {
		return nil, nil
	}
	u, err := in.actionURL(base, v.Action, true, "Sms")
	if err != nil {
		return nil, err
	}
	return &Request{URL: u, Method: v.Method, Params: []Param{
		{Key: "SmsSid", Value: "SM" + shortHash(info.ID+v.Body)}, {Key: "SmsStatus", Value: "sent"},
	}}, nil
}

// set keeps Kazoo's <Set><Variable>: sent on every later request.
func (in *Interpreter) set(vars []Variable) {
	for _, v := range vars {
		if v.Key == "" {
			continue
		}
		in.Vars.Set(v.Key, v.Value)
		in.Trace.Add("set", "key", v.Key, "value", v.Value)
	}
}

// resolve turns a verb's URL into an absolute one against the document's
// (RFC 3986); "" is the document itself.
func resolve(base, ref string) (string, error) {
	if ref == "" {
		return base, nil
	}
	return ResolveURL(base, ref)
}

// shortHash is 32 hex characters naming a thing stably (SIDs).
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
