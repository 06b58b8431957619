package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/pivot"
	"github.com/switchboard/switchboard/internal/twiml"
)

// interpreter runs the session's TwiML documents on the call; one serves
// every document of the session.
func (s *session) interpreter() *twiml.Interpreter {
	if s.twiml == nil {
		x := s.x
		s.twiml = &twiml.Interpreter{
			Call: x.Call, Trace: x.Trace, Log: x.Log, Vars: x.Vars, Now: x.Now,
			Queues: s.deps.Queues, Wait: s, Notify: s, Media: s.deps.LocalMedia, Whisper: s,
		}
	}
	return s.twiml
}

// runTwiML runs a TwiML answer until it ends the call or asks for the next
// document. A <Record> action after the caller hung up is fetched here and
// its answer ignored.
func (s *session) runTwiML(ctx context.Context, body []byte, base string) (string, *request, error) {
	doc, err := twiml.Parse(body)
	if err != nil {
		return "", nil, err
	}
	next, err := s.interpreter().Run(ctx, doc, base)
	if err != nil {
		return "", nil, err
	}
	if next == nil {
		return engine.BranchEnd, nil, nil
	}
	r := request{url: next.URL, method: next.Method, params: verbParams(next.Params)}
	if next.AfterHangup {
		if _, _, err := s.fetch(context.WithoutCancel(ctx), r); err != nil {
			s.x.Log.Info("record action after hangup failed", "err", err)
		}
		return engine.BranchEnd, nil, nil
	}
	return "", &r, nil
}

// FetchWait is twiml.WaitFetcher: an <Enqueue>'s wait document, traced
// with purpose "wait" and not counted against the per-call document limit
// (a long wait asks many times).
func (s *session) FetchWait(ctx context.Context, r twiml.Request) ([]byte, error) {
	params := s.params(verbParams(r.Params))
	resp, ex, err := s.deps.Webhooks.Do(asAccount(ctx, s.x), pivot.Request{
		URL: r.URL, Method: r.Method, Format: "twiml", Params: params, Timeout: s.p.timeout("twiml"),
		SigningKey: s.x.Account.SigningSecret, SwitchboardKey: s.x.Account.SigningSecret, // wall-clock timestamp, as fetch
	})
	s.x.Trace.Add("webhook", "method", ex.Method, "url", ex.URL, "format", "twiml", "status", ex.Status,
		"params", paramsObject(params), "purpose", "wait")
	if err != nil {
		return nil, fmt.Errorf("wait document: %w", err)
	}
	if resp.Kind != pivot.KindTwiML {
		return nil, fmt.Errorf("wait document: %s answer, not TwiML", resp.Kind)
	}
	return resp.Body, nil
}

// FetchWhisper is twiml.WhisperFetcher: a document run on a dialled
// party's leg before the bridge, traced with purpose "whisper" and not
// counted against the per-call document limit (its legs are not the
// caller's conversation).
func (s *session) FetchWhisper(ctx context.Context, r twiml.Request) ([]byte, error) {
	params := s.params(verbParams(r.Params))
	resp, ex, err := s.deps.Webhooks.Do(asAccount(ctx, s.x), pivot.Request{
		URL: r.URL, Method: r.Method, Format: "twiml", Params: params, Timeout: s.p.timeout("twiml"),
		SigningKey: s.x.Account.SigningSecret, SwitchboardKey: s.x.Account.SigningSecret,
	})
	fields := []any{"method", ex.Method, "url", ex.URL, "format", "twiml", "status", ex.Status,
		"params", paramsObject(params), "purpose", "whisper"}
	if err != nil {
		fields = append(fields, "error", err.Error())
	}
	s.x.Trace.Add("webhook", fields...)
	s.logExchange(ctx, ex, s.x.Documents())
	if err != nil {
		return nil, fmt.Errorf("whisper document: %w", err)
	}
	if resp.Kind != pivot.KindTwiML {
		return nil, fmt.Errorf("whisper document: %s answer, not TwiML", resp.Kind)
	}
	return resp.Body, nil
}

// Notify is twiml.Notifier: a status callback (recordingStatusCallback),
// signed like every webhook, traced with purpose "callback" and not
// counted as a document; its answer is ignored and a failure only logged.
func (s *session) Notify(ctx context.Context, r twiml.Request) {
	params := s.params(verbParams(r.Params))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, ex, err := s.deps.Webhooks.Do(asAccount(ctx, s.x), pivot.Request{
		URL: r.URL, Method: r.Method, Format: "twiml", BodyFormat: "form", Params: params, Timeout: 5 * time.Second,
		SigningKey: s.x.Account.SigningSecret, SwitchboardKey: s.x.Account.SigningSecret,
	})
	fields := []any{"method", ex.Method, "url", ex.URL, "format", "twiml", "status", ex.Status,
		"params", paramsObject(params), "purpose", "callback"}
	if err != nil && ex.Status/100 != 2 { // a callback's answer may be empty (204): only the status counts
		fields = append(fields, "error", err.Error())
		s.x.Log.Warn("status callback failed", "url", r.URL, "err", err)
	}
	s.x.Trace.Add("webhook", fields...)
	s.logExchange(ctx, ex, s.x.Documents())
}

// verbParams are a verb's callback parameters as the webhook client sends
// them.
func verbParams(ps []twiml.Param) pivot.Params {
	if len(ps) == 0 {
		return nil
	}
	out := make(pivot.Params, len(ps))
	for i, p := range ps {
		out[i] = pivot.Param{Key: p.Key, Value: p.Value}
	}
	return out
}
