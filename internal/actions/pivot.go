package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/pivot"
	sbschema "github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/twiml"
)

func init() {
	engine.Register(engine.Spec{
		Name:     "pivot",
		Group:    "Advanced",
		Label:    "Pivot",
		Icon:     "pivot",
		Doc:      "Ask your web server what to do, in TwiML or Kazoo JSON.",
		Schema:   schema("pivot"),
		Branches: []string{"_"},
		New:      func() engine.Action { return new(Pivot) },
	})
}

// Pivot hands the call to the customer's web server, which answers with
// TwiML or a Kazoo JSON node tree. The "_" child is taken when the server
// cannot be used and no fallback_url saves the call.
type Pivot struct {
	// VoiceURL is asked for instructions.
	VoiceURL string `json:"voice_url"`
	// Method is get or post, in either case.
	Method string `json:"method,omitempty"`
	// ReqFormat is kazoo or twiml: the parameter names sent. The answer's
	// own Content-Type (or its content) decides how it is read.
	ReqFormat string `json:"req_format,omitempty"`
	// ReqBodyFormat is form or json, for POST.
	ReqBodyFormat string `json:"req_body_format,omitempty"`
	// ReqTimeoutMS bounds each request, at most 15000 (Twilio waits
	// 15 s); 0 means 15000 for the twiml format and 5000 for kazoo
	// (Kazoo's request_timeout_ms).
	ReqTimeoutMS int `json:"req_timeout_ms,omitempty"`
	// Debug keeps every request and response of the call beyond the
	// per-account limit of the call log.
	Debug bool `json:"debug,omitempty"`
	// CDRURL receives the call's detail record when the call ends.
	CDRURL string `json:"cdr_url,omitempty"`
	// FallbackURL is asked when VoiceURL fails (with ErrorCode, ErrorUrl).
	FallbackURL string `json:"fallback_url,omitempty"`
	// Retries is how many more attempts follow a connection failure
	// (default 1).
	Retries *int `json:"retries,omitempty"`
	// FillerText is spoken while a request takes longer than
	// FillerDelayMS, so a slow app is never dead air.
	FillerText string `json:"filler_text,omitempty"`
	// FillerMedia (a media id or an http(s) URL) is played instead of
	// FillerText.
	FillerMedia string `json:"filler_media,omitempty"`
	// FillerDelayMS is how long a request may take before the filler
	// starts; 0 means 2000.
	FillerDelayMS int `json:"filler_delay_ms,omitempty"`
}

var _ engine.Action = (*Pivot)(nil)

var errNoWebhooks = errors.New("no webhook client configured")

// request is the next document to fetch.
type request struct {
	url    string
	method string
	params pivot.Params // verb callback parameters (Digits, RecordingUrl …)
}

// session is one pivot node's conversation with the customer's server.
type session struct {
	p      *Pivot
	x      *engine.Exec
	deps   *Deps
	format string
	// twiml runs the TwiML documents (built at the first).
	twiml *twiml.Interpreter
	// fallbackUsed is set once fallback_url was asked.
	fallbackUsed bool

	// logMu guards logged, which is closed once the last exchange given
	// to logExchange is in the call log.
	logMu  sync.Mutex
	logged chan struct{}
}

// logExchange keeps ex in the call log behind the call, not on its path:
// the call log commits its writes in batches (up to 20 ms apart), and the
// caller would hear the answer that much later. The writes keep their
// order, and the call's end waits for the last one (Exec registers it),
// so a finished call's exchanges are all stored.
func (s *session) logExchange(ctx context.Context, ex *pivot.Exchange, iteration int) {
	if s.deps.CallLog == nil {
		return
	}
	info, log := s.x.Call.Info(), s.x.Log
	ctx = context.WithoutCancel(ctx)
	done := make(chan struct{})
	s.logMu.Lock()
	prev := s.logged
	s.logged = done
	s.logMu.Unlock()
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		s.deps.logWebhook(ctx, log, info, ex, iteration)
	}()
}

// waitLogged returns once every exchange of the session is in the call
// log.
func (s *session) waitLogged(context.Context, engine.Result) {
	s.logMu.Lock()
	last := s.logged
	s.logMu.Unlock()
	if last != nil {
		<-last
	}
}

// Exec runs the conversation until the call ends, the server's answer
// replaces the rest of the flow (Kazoo JSON), or a failure sends the call to
// the "_" child.
func (p *Pivot) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	d := deps(x)
	if d.Webhooks == nil {
		return "", errNoWebhooks
	}
	s := &session{p: p, x: x, deps: d, format: strings.ToLower(p.ReqFormat)}
	if s.format != "kazoo" {
		s.format = "twiml"
	}
	if p.Debug {
		x.Vars.MarkDebug()
	}
	x.OnEnd(s.waitLogged)
	if p.CDRURL != "" {
		x.OnEnd(s.postCDR)
	}
	// A slow first webhook must not look like a dead line to the
	// caller's network: 180 Ringing at once.
	if r, ok := call.As[call.Ringer](x.Call); ok && !x.Call.Answered() {
		if err := r.Ring(ctx); err != nil {
			x.Log.Debug("ringing not sent", "err", err)
		}
	}
	next := &request{url: p.VoiceURL, method: p.method()}
	for next != nil {
		cur := *next
		resp, base, err := s.fetch(ctx, cur)
		branch := ""
		if err == nil {
			branch, next, err = s.handle(ctx, resp, base)
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if err == nil {
			if next == nil {
				return branch, nil
			}
			continue
		}
		branch, next, err = s.fail(cur.url, err)
		if next == nil {
			return branch, err
		}
	}
	return engine.BranchEnd, nil
}

// Webhook timeouts: Twilio waits 15 s for an answer, Kazoo 5 s.
const (
	maxTimeout   = 15 * time.Second
	twimlTimeout = 15 * time.Second
	kazooTimeout = 5 * time.Second
)

// timeout bounds one request of the given format.
func (p *Pivot) timeout(format string) time.Duration {
	switch t := time.Duration(p.ReqTimeoutMS) * time.Millisecond; {
	case t > maxTimeout:
		return maxTimeout
	case t > 0:
		return t
	case format == "kazoo":
		return kazooTimeout
	}
	return twimlTimeout
}

func (p *Pivot) method() string {
	if strings.EqualFold(p.Method, "post") {
		return "POST"
	}
	return "GET"
}

// fail decides what a failure leads to: the fallback URL once, else the
// "_" child, else an apology and a hangup (the engine's). The failure is
// traced here with its code.
func (s *session) fail(failedURL string, err error) (string, *request, error) {
	code := failureCode(err)
	// The URL's credentials stay in the flow: never in the trace, the log
	// or the fallback's ErrorUrl.
	failedURL = egress.RedactURL(failedURL)
	s.x.Trace.Add("error", "code", code, "message", err.Error(), "url", failedURL)
	s.x.Log.Warn("webhook failed", "url", failedURL, "code", code, "err", err)
	if errors.Is(err, engine.ErrLimit) {
		return "", nil, engine.Reported(err)
	}
	if s.p.FallbackURL != "" && !s.fallbackUsed {
		s.fallbackUsed = true
		return "", &request{url: s.p.FallbackURL, method: s.p.method(), params: pivot.Params{
			{Key: "ErrorCode", Value: fmt.Sprint(code)},
			{Key: "ErrorUrl", Value: failedURL},
		}}, nil
	}
	if s.x.HasChild("_") {
		return "_", nil, nil
	}
	return "", nil, engine.Reported(err)
}

// failureCode is the Twilio code of a failure (11200 when none fits).
func failureCode(err error) int {
	if pe, ok := errors.AsType[*pivot.Error](err); ok {
		return pe.Code
	}
	if te, ok := errors.AsType[*twiml.Error](err); ok {
		return te.Code
	}
	if _, ok := errors.AsType[sbschema.ValidationError](err); ok {
		return 12200
	}
	if errors.Is(err, engine.ErrLimit) {
		return 11200
	}
	return 12400
}

// fetch asks for one document, traces the exchange and keeps it in the call
// log. base is the document's URL: the base of its relative URLs and its
// verbs' default action.
func (s *session) fetch(ctx context.Context, r request) (resp *pivot.Response, base string, err error) {
	if err := s.x.CountDocument(); err != nil {
		return nil, "", err
	}
	buf := paramBufs.Get().(*pivot.Params)
	params := s.paramsInto(*buf, r.params)
	defer putParams(buf, params)
	timeout := s.p.timeout(s.format)
	retries := 1
	if s.p.Retries != nil {
		retries = *s.p.Retries
	}
	// X-Switchboard-Timestamp is wall-clock time (Now nil), not the call's:
	// a simulated call's clock runs ahead, and the receiver checks the
	// timestamp against its own clock.
	stopFiller := s.filler(ctx)
	resp, ex, err := s.deps.Webhooks.Do(asAccount(ctx, s.x), pivot.Request{
		URL: r.url, Method: r.method, Format: s.format, BodyFormat: s.p.ReqBodyFormat,
		Params: params, Timeout: timeout, Retries: retries,
		SigningKey: s.x.Account.SigningSecret, SwitchboardKey: s.x.Account.SigningSecret,
	})
	stopFiller()
	s.x.Vars.ClearDigits()
	// Room for every field below at once: growing the list copies it.
	fields := append(make([]any, 0, 20), "method", ex.Method, "url", ex.URL, "format", s.format, "status", ex.Status,
		"params", paramsObject(params), "duration_ms", ex.Duration.Milliseconds(), "iteration", s.x.Documents())
	if resp != nil && err == nil {
		fields = append(fields, "response", resp.Kind.String())
	}
	if ex.FinalURL != "" && ex.FinalURL != ex.URL {
		fields = append(fields, "final_url", ex.FinalURL)
	}
	if err != nil {
		fields = append(fields, "error", err.Error())
	}
	s.x.Trace.Add("webhook", fields...)
	s.logExchange(ctx, ex, s.x.Documents())
	if resp != nil {
		base = resp.FinalURL
		if ex.FinalURL == ex.URL {
			// Not redirected: the URL asked for, without the parameters a
			// GET (or a signed JSON body's bodySHA256) appended to it, which
			// would be sent twice when the document is asked for again.
			base, _, _ = strings.Cut(strings.TrimSpace(r.url), "#")
		}
	}
	return resp, base, err
}

// handle runs a document: Kazoo JSON replaces the rest of the flow, TwiML
// runs verb by verb until it ends or asks for the next document.
func (s *session) handle(ctx context.Context, resp *pivot.Response, base string) (string, *request, error) {
	switch resp.Kind {
	case pivot.KindKazoo:
		root, coerced, err := callflow.CompileNodeCoerced(resp.Body)
		if err != nil {
			return "", nil, fmt.Errorf("kazoo answer: %w", err)
		}
		warnCoerced(s.x, coerced)
		s.x.Continue(root)
		return "_", nil, nil
	case pivot.KindTwiML:
		return s.runTwiML(ctx, resp.Body, base)
	case pivot.KindText:
		// Twilio reads a text/plain answer out, then hangs up.
		if err := s.x.Call.Answer(ctx); err != nil {
			return "", nil, err
		}
		text := strings.Join(strings.Fields(string(resp.Body)), " ")
		if len(text) > 4000 {
			text = text[:4000]
		}
		return engine.BranchEnd, nil, s.x.Call.Say(ctx, call.SayOptions{Text: text, Loop: 1})
	case pivot.KindAudio:
		if err := s.x.Call.Answer(ctx); err != nil {
			return "", nil, err
		}
		return engine.BranchEnd, nil, s.x.Call.Play(ctx, call.PlayOptions{URL: resp.FinalURL, Loop: 1})
	}
	return "", nil, &pivot.Error{Code: pivot.CodeContentType, Message: "answer is neither TwiML, Kazoo JSON, text nor audio"}
}

// filler starts the node's filler (FillerMedia or FillerText), played
// over and over once a request has taken FillerDelayMS, until the
// returned func is called; that func returns once the filler is off the
// line. Without a filler it does nothing.
func (s *session) filler(ctx context.Context) (stop func()) {
	p := s.p
	if p.FillerText == "" && p.FillerMedia == "" {
		return func() {}
	}
	delay := time.Duration(p.FillerDelayMS) * time.Millisecond
	if delay <= 0 {
		delay = 2 * time.Second
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-fctx.Done():
			return
		case <-t.C:
		}
		var err error
		if p.FillerMedia != "" {
			o := call.PlayOptions{URL: p.FillerMedia, Loop: 0}
			if !strings.Contains(p.FillerMedia, "://") {
				o = call.PlayOptions{MediaID: p.FillerMedia, Loop: 0}
			}
			err = s.x.Call.Play(fctx, o)
		} else {
			err = s.x.Call.Say(fctx, call.SayOptions{Text: p.FillerText, Voice: "woman", Language: "en-US", Loop: 0})
		}
		if err != nil && fctx.Err() == nil {
			s.x.Log.Info("filler not played", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
