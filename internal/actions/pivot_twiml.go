package actions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/pivot"
	"github.com/switchboard/switchboard/internal/twiml"
)

// run executes TwiML verbs in order. It returns the next document to fetch
// (an action, a Redirect), or nil when the document ended the call or ran
// out (Twilio hangs up then).
func (s *session) run(ctx context.Context, verbs []twiml.Verb, base string) (*request, error) {
	ch := s.x.Call
	for _, v := range verbs {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var (
			next *request
			end  bool
			err  error
		)
		switch v := v.(type) {
		case *twiml.Say:
			err = s.answerThen(ctx, func() error {
				return ch.Say(ctx, call.SayOptions{Text: v.Text, Voice: v.Voice, Language: v.Language, Loop: v.Loop})
			})
		case *twiml.Play:
			err = s.answerThen(ctx, func() error { return s.play(ctx, v, base) })
		case *twiml.Pause:
			err = ch.Pause(ctx, v.Length) // a first Pause waits before answering, as Twilio
		case *twiml.Gather:
			next, err = s.gather(ctx, v, base)
		case *twiml.Record:
			next, end, err = s.record(ctx, v, base)
		case *twiml.Dial:
			next, err = s.dial(ctx, v, base)
		case *twiml.Redirect:
			next, err = s.redirect(v, base)
		case *twiml.Hangup:
			err = s.answerThen(ctx, func() error { return ch.Hangup(ctx, "NORMAL_CLEARING") })
			end = true
		case *twiml.Reject:
			err, end = s.reject(ctx, v), true
		case *twiml.Enqueue:
			next, end, err = s.enqueue(ctx, v, base)
		case *twiml.Leave:
			s.x.Trace.Add("warning", "code", 14201, "message", "<Leave> outside a queue's wait document does nothing", "verb", "Leave")
		case *twiml.Sms:
			next, err = s.sms(v, base)
		case *twiml.Set:
			s.set(v.Variables)
		default:
			s.x.Trace.Add("warning", "code", twiml.CodeSchema, "message", "verb not supported here", "verb", v.Name())
		}
		if err != nil || next != nil || end {
			return next, err
		}
	}
	return nil, nil
}

// answerThen answers the call (media verbs do) and runs fn.
func (s *session) answerThen(ctx context.Context, fn func() error) error {
	if err := s.x.Call.Answer(ctx); err != nil {
		return err
	}
	return fn()
}

func (s *session) play(ctx context.Context, v *twiml.Play, base string) error {
	if v.Digits != "" {
		return s.x.Call.Play(ctx, call.PlayOptions{Digits: v.Digits, Loop: 1})
	}
	u, err := resolve(base, v.URL)
	if err != nil || v.URL == "" {
		s.x.Trace.Add("warning", "code", 13420, "message", fmt.Sprintf("<Play> has no usable URL %q", v.URL), "verb", "Play")
		return nil
	}
	return s.x.Call.Play(ctx, call.PlayOptions{URL: u, Loop: v.Loop})
}

// prompts turns a Gather's nested verbs into prompts.
func (s *session) prompts(nested []twiml.Verb, base string) []call.Prompt {
	var out []call.Prompt
	for _, n := range nested {
		switch n := n.(type) {
		case *twiml.Say:
			out = append(out, call.Prompt{Say: &call.SayOptions{Text: n.Text, Voice: n.Voice, Language: n.Language, Loop: n.Loop}})
		case *twiml.Play:
			if u, err := resolve(base, n.URL); err == nil && n.URL != "" {
				out = append(out, call.Prompt{Play: &call.PlayOptions{URL: u, Loop: n.Loop}})
			}
		case *twiml.Pause:
			out = append(out, call.Prompt{Pause: n.Length})
		}
	}
	return out
}

// gather collects digits. With digits (or actionOnEmptyResult) the action
// is requested — the current document when no action was given; without
// them the next verb runs.
func (s *session) gather(ctx context.Context, v *twiml.Gather, base string) (*request, error) {
	if err := s.x.Call.Answer(ctx); err != nil {
		return nil, err
	}
	digits, err := s.x.Call.Gather(ctx, call.GatherOptions{
		NumDigits: v.NumDigits, Timeout: v.Timeout, FinishOnKey: v.FinishOnKey, Prompts: s.prompts(v.Nested, base),
	})
	if err != nil {
		return nil, err
	}
	if digits == "" && !v.ActionOnEmptyResult {
		return nil, nil
	}
	u, err := s.actionURL(base, v.Action, v.ActionSet, "Gather")
	if err != nil {
		return nil, err
	}
	var params pivot.Params
	if digits != "" { // actionOnEmptyResult with no input: no Digits, as Twilio
		params = pivot.Params{{Key: "Digits", Value: digits}}
	}
	return &request{url: u, method: v.Method, params: params}, nil
}

// actionURL resolves an action; absent, it is the current document.
func (s *session) actionURL(base, action string, set bool, verb string) (string, error) {
	if !set || action == "" {
		return base, nil
	}
	u, err := resolve(base, action)
	if err != nil {
		return "", &twiml.Error{Code: twiml.CodeInvalidURL, Message: fmt.Sprintf("<%s action=%q>: %v", verb, action, err)}
	}
	return u, nil
}

// record records the caller. An empty recording (no audio, no key) goes on
// to the next verb, as Twilio and Kazoo; otherwise the action gets the
// recording. When the caller hung up during it, the action is still
// requested (CallStatus completed) and its answer ignored.
func (s *session) record(ctx context.Context, v *twiml.Record, base string) (*request, bool, error) {
	if err := s.x.Call.Answer(ctx); err != nil {
		return nil, false, err
	}
	rec, err := s.x.Call.Record(ctx, call.RecordOptions{
		MaxLength: v.MaxLength, Timeout: v.Timeout, FinishOnKey: v.FinishOnKey, PlayBeep: v.PlayBeep, Trim: v.Trim != "do-not-trim",
	})
	if err != nil {
		return nil, false, err
	}
	if rec.Duration < 500*time.Millisecond && rec.Digits != "hangup" {
		return nil, false, nil
	}
	u, err := s.actionURL(base, v.Action, v.ActionSet, "Record")
	if err != nil {
		return nil, false, err
	}
	params := pivot.Params{
		{Key: "RecordingUrl", Value: rec.URL},
		{Key: "RecordingDuration", Value: strconv.Itoa(int(rec.Duration.Round(time.Second) / time.Second))},
		{Key: "RecordingSid", Value: recordingSid(rec.URL)},
		{Key: "Digits", Value: rec.Digits},
	}
	if rec.Digits == "hangup" || ctx.Err() != nil {
		params = append(params, pivot.Param{Key: "CallStatus", Value: "completed"})
		if _, _, err := s.fetch(context.WithoutCancel(ctx), request{url: u, method: v.Method, params: params}); err != nil {
			s.x.Log.Info("record action after hangup failed", "err", err)
		}
		return nil, true, nil
	}
	return &request{url: u, method: v.Method, params: params}, false, nil
}

func recordingSid(u string) string {
	if u == "" {
		return ""
	}
	return "RE" + shortHash(u)
}

// dial rings the nouns; with an action, the action gets the outcome, else
// the next verb runs.
func (s *session) dial(ctx context.Context, v *twiml.Dial, base string) (*request, error) {
	if !v.AnswerOnBridge {
		if err := s.x.Call.Answer(ctx); err != nil {
			return nil, err
		}
	}
	var (
		res call.DialResult
		err error
	)
	if q, ok := queueNoun(v.Nouns); ok {
		res, err = s.dequeue(ctx, v, q)
	} else if len(v.Nouns) == 0 {
		res.Status = "failed" // nothing to dial: no call is made (the parser warned, 13215)
	} else {
		targets := make([]call.Target, 0, len(v.Nouns))
		for _, n := range v.Nouns {
			targets = append(targets, call.Target{Kind: n.Kind, Value: n.Value})
		}
		strategy := "simultaneous"
		if v.Sequential {
			strategy = "single"
		}
		res, err = s.x.Call.Dial(ctx, call.DialOptions{
			Targets: targets, Timeout: v.Timeout, CallerID: v.CallerID, TimeLimit: v.TimeLimit,
			HangupOnStar: v.HangupOnStar, Record: v.Record != "" && v.Record != "do-not-record", Strategy: strategy,
		})
	}
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	if err != nil {
		res.Status = "failed"
	}
	if !v.ActionSet {
		return nil, nil
	}
	u, uerr := s.actionURL(base, v.Action, true, "Dial")
	if uerr != nil {
		return nil, uerr
	}
	status := res.Status
	if status == "answered" {
		status = "completed"
	}
	return &request{url: u, method: v.Method, params: pivot.Params{
		{Key: "DialCallStatus", Value: status},
		{Key: "DialCallSid", Value: res.CallID},
		{Key: "DialCallDuration", Value: strconv.Itoa(int(res.Duration / time.Second))},
	}}, nil
}

func queueNoun(nouns []twiml.Noun) (twiml.Noun, bool) {
	for _, n := range nouns {
		if n.Kind == "queue" {
			return n, true
		}
	}
	return twiml.Noun{}, false
}

func (s *session) redirect(v *twiml.Redirect, base string) (*request, error) {
	s.set(v.Variables)
	u, err := resolve(base, v.URL) // "" is the current document (RFC 3986), as Twilio's <Redirect/>
	if err != nil {
		return nil, &twiml.Error{Code: twiml.CodeInvalidURL, Message: fmt.Sprintf("<Redirect>%s</Redirect>: %v", v.URL, err)}
	}
	s.x.Trace.Add("redirect", "url", u, "method", v.Method)
	return &request{url: u, method: v.Method}, nil
}

// reject refuses the call before it is answered; after, it only hangs up.
func (s *session) reject(ctx context.Context, v *twiml.Reject) error {
	ch := s.x.Call
	cause := "CALL_REJECTED"
	if v.Reason == "busy" {
		cause = "USER_BUSY"
	}
	if ch.Answered() {
		s.x.Trace.Add("warning", "code", 13810, "message", "<Reject> after the call was answered only hangs up", "verb", "Reject")
		return ch.Hangup(ctx, cause)
	}
	if err := ch.Reject(ctx, v.Reason); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ch.Hangup(context.WithoutCancel(ctx), cause)
}

// sms is traced, not sent: Switchboard has no SMS carrier.
func (s *session) sms(v *twiml.Sms, base string) (*request, error) {
	info := s.x.Call.Info()
	to := nonEmpty(v.To, info.From)
	from := nonEmpty(v.From, nonEmpty(info.To, info.Request))
	s.x.Trace.Add("sms", "to", to, "from", from, "body", v.Body, "status", "sent")
	if !v.ActionSet {
		return nil, nil
	}
	u, err := s.actionURL(base, v.Action, true, "Sms")
	if err != nil {
		return nil, err
	}
	return &request{url: u, method: v.Method, params: pivot.Params{
		{Key: "SmsSid", Value: "SM" + shortHash(info.ID+v.Body)}, {Key: "SmsStatus", Value: "sent"},
	}}, nil
}

// set keeps Kazoo's <Set><Variable>: sent on every later request.
func (s *session) set(vars []twiml.Variable) {
	for _, v := range vars {
		if v.Key == "" {
			continue
		}
		s.x.Vars.Set(v.Key, v.Value)
		s.x.Trace.Add("set", "key", v.Key, "value", v.Value)
	}
}
