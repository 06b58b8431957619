package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/pivot"
	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/twiml"
)

// "Try it" for the Pivot pop-up: POST …/pivot/try asks the customer's URL
// once, as a call would (the same webhook client, hence the account's
// egress policy on every hop, the same parameter names and encoding, the
// same signatures), with sample call parameters, and answers what came
// back with lint findings, so an admin sees a wrong format, bad TwiML or a
// 500 before saving the flow rather than on a caller's line.

// Webhooks sends webhook requests (pivot.Client does): the one client the
// engine uses, so a try goes where a call would and nowhere else.
type Webhooks interface {
	Do(ctx context.Context, r pivot.Request) (*pivot.Response, *pivot.Exchange, error)
}

var errNoWebhooks = &Error{Status: http.StatusServiceUnavailable, Message: "webhook client unavailable"}

// Bounds of a try: shorter than a call's wait, and the body shown cut.
const (
	tryDefaultTimeout = 5 * time.Second
	tryMaxTimeout     = 10 * time.Second
	tryBodyShown      = 8 << 10
)

// tryRequest is the body of POST …/pivot/try: a Pivot block's fields.
type tryRequest struct {
	VoiceURL      string `json:"voice_url"`
	Method        string `json:"method"`
	ReqFormat     string `json:"req_format"`
	ReqBodyFormat string `json:"req_body_format"`
	ReqTimeoutMS  int    `json:"req_timeout_ms"`
}

// Finding is one lint result of a try.
type Finding struct {
	// Severity is "error" (a call would fail or go to the "_" branch),
	// "warning" (it would run, perhaps not as meant) or "info".
	Severity string `json:"severity"`
	// Code is Twilio's error or warning code when there is one.
	Code int `json:"code,omitempty"`
	// Message says what is wrong in an admin's words.
	Message string `json:"message"`
	// Line is the answer's line the finding is about (1-based), if known.
	Line int `json:"line,omitempty"`
	// Path is the JSON path a Kazoo answer's finding is about.
	Path string `json:"path,omitempty"`
}

// pivotTry answers POST /v2/accounts/{account_id}/pivot/try.
func (a *API) pivotTry(w http.ResponseWriter, r *http.Request) error {
	if a.webhooks == nil {
		return errNoWebhooks
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	var in tryRequest
	if len(req.Data) == 0 || json.Unmarshal(req.Data, &in) != nil {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "type",
			"data is an object with voice_url, method, req_format and req_body_format")
	}
	in.VoiceURL = strings.TrimSpace(in.VoiceURL)
	if in.VoiceURL == "" {
		return fieldError(http.StatusBadRequest, "validation failed", "voice_url", "required", "voice_url is required")
	}
	if !strings.HasPrefix(in.VoiceURL, "http://") && !strings.HasPrefix(in.VoiceURL, "https://") || len(in.VoiceURL) > 2048 {
		return fieldError(http.StatusBadRequest, "validation failed", "voice_url", "pattern", "voice_url is an http:// or https:// address of at most 2048 characters")
	}
	in.Method = strings.ToLower(in.Method)
	if in.Method == "" {
		in.Method = "get"
	}
	if in.Method != "get" && in.Method != "post" {
		return fieldError(http.StatusBadRequest, "validation failed", "method", "enum", "method is get or post")
	}
	if in.ReqFormat == "" {
		in.ReqFormat = "kazoo"
	}
	if in.ReqFormat != "kazoo" && in.ReqFormat != "twiml" {
		return fieldError(http.StatusBadRequest, "validation failed", "req_format", "enum", "req_format is kazoo or twiml")
	}
	if in.ReqBodyFormat == "" {
		in.ReqBodyFormat = "form"
	}
	if in.ReqBodyFormat != "form" && in.ReqBodyFormat != "json" {
		return fieldError(http.StatusBadRequest, "validation failed", "req_body_format", "enum", "req_body_format is form or json")
	}
	timeout := tryDefaultTimeout
	if in.ReqTimeoutMS > 0 {
		timeout = min(time.Duration(in.ReqTimeoutMS)*time.Millisecond, tryMaxTimeout)
	}
	accountID := accountOf(r)
	acct, err := a.store.GetAccount(r.Context(), accountID)
	if err != nil {
		return fmt.Errorf("pivot try: account: %w", err)
	}
	params := sampleParams(in.ReqFormat, accountID, requestID(r))
	// The path's account: its egress policy applies, whoever's token asks.
	ctx := egress.WithAccount(r.Context(), accountID)
	resp, ex, doErr := a.webhooks.Do(ctx, pivot.Request{
		URL: in.VoiceURL, Method: in.Method, Format: in.ReqFormat, BodyFormat: in.ReqBodyFormat,
		Params: params, Timeout: timeout, SigningKey: acct.SigningSecret, SwitchboardKey: acct.SigningSecret,
	})
	out := map[string]any{
		"request": map[string]any{"method": ex.Method, "url": ex.URL, "params": paramsView(params), "headers": ex.RequestHeaders},
		"status":  ex.Status, "duration_ms": ex.Duration.Milliseconds(),
	}
	if ex.FinalURL != "" && ex.FinalURL != ex.URL {
		out["final_url"] = ex.FinalURL
	}
	var body []byte
	if resp != nil {
		body = resp.Body
		ct := resp.Header.Get("Content-Type")
		out["content_type"] = ct
		shown := body
		if len(shown) > tryBodyShown {
			shown = shown[:tryBodyShown]
			out["truncated"] = true
		}
		out["body"] = strings.ToValidUTF8(string(shown), "\uFFFD")
		out["body_bytes"] = len(body)
		out["kind"] = resp.Kind.String()
	}
	findings := lintTry(in, ex, resp, doErr)
	out["findings"] = findings
	ok := true
	for _, f := range findings {
		if f.Severity == "error" {
			ok = false
		}
	}
	out["ok"] = ok
	a.log.Info("pivot try", "account_id", accountID, "url", ex.URL, "status", ex.Status, "ok", ok)
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// sampleParams are the parameters a first request of a call carries, with
// sample values: the names the Pivot block sends in each format (the
// agreement is tested against a simulated call's request).
func sampleParams(format, accountID, id string) pivot.Params {
	callID := "try-" + id
	if format == "kazoo" {
		return pivot.Params{
			{Key: "Account-ID", Value: accountID}, {Key: "Api-Version", Value: "4.x"},
			{Key: "Call-ID", Value: callID}, {Key: "Call-Status", Value: "ringing"},
			{Key: "Caller-ID-Name", Value: "Try it"}, {Key: "Caller-ID-Number", Value: "+15550100"},
			{Key: "Direction", Value: "inbound"}, {Key: "From", Value: "+15550100"},
			{Key: "From-Realm", Value: "switchboard.invalid"}, {Key: "Language", Value: "en-US"},
			{Key: "Request", Value: "+15550199"}, {Key: "Request-Realm", Value: "switchboard.invalid"},
			{Key: "To", Value: "+15550199"}, {Key: "To-Realm", Value: "switchboard.invalid"},
		}
	}
	return pivot.Params{
		{Key: "CallSid", Value: callID}, {Key: "AccountSid", Value: call.AccountSid(accountID)},
		{Key: "From", Value: "+15550100"}, {Key: "To", Value: "+15550199"},
		{Key: "Caller", Value: "+15550100"}, {Key: "Called", Value: "+15550199"},
		{Key: "CallerName", Value: "Try it"}, {Key: "CallStatus", Value: "ringing"},
		{Key: "ApiVersion", Value: "2010-04-01"}, {Key: "Direction", Value: "inbound"},
		{Key: "FromCity", Value: ""}, {Key: "FromState", Value: ""}, {Key: "FromZip", Value: ""}, {Key: "FromCountry", Value: ""},
		{Key: "ToCity", Value: ""}, {Key: "ToState", Value: ""}, {Key: "ToZip", Value: ""}, {Key: "ToCountry", Value: ""},
	}
}

func paramsView(ps pivot.Params) map[string]any {
	out := make(map[string]any, len(ps))
	for _, p := range ps {
		out[p.Key] = p.Value
	}
	return out
}

// lintTry turns a try's outcome into findings.
func lintTry(in tryRequest, ex *pivot.Exchange, resp *pivot.Response, err error) []Finding {
	out := []Finding{} // [] not null when there is nothing to say
	add := func(sev string, code int, line int, format string, args ...any) {
		out = append(out, Finding{Severity: sev, Code: code, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	if ex.FinalURL != "" && ex.FinalURL != ex.URL {
		add("info", 0, 0, "The server redirected the request to %s; calls follow redirects (up to 10), each hop checked like the first.", ex.FinalURL)
	}
	if err != nil {
		pe, ok := errors.AsType[*pivot.Error](err)
		if !ok {
			add("error", 0, 0, "The request failed: %v", err)
			return out
		}
		switch {
		case errors.Is(err, egress.ErrRefused):
			add("error", pe.Code, 0, "This address may not be reached from this account (%s): the server must be on the public internet, or the operator must allow its network.", pe.Err)
		case errors.Is(err, pivot.ErrTimeout):
			add("error", pe.Code, 0, "No answer within the time limit (%s): a call would give up too, then take the “If the server fails” branch.", pe.Message)
		case pe.Code == pivot.CodeHTTPStatus:
			add("error", pe.Code, 0, "The server answered HTTP %d: a call would take the “If the server fails” branch.", pe.Status)
		case pe.Code == pivot.CodeConnection:
			add("error", pe.Code, 0, "The server could not be reached: %v", pe.Err)
		case pe.Code == pivot.CodeParse && resp != nil:
			// Said precisely below, with the line.
		default:
			add("error", pe.Code, 0, "%s", sentence(pe.Message))
		}
		if resp == nil || pe.Code == pivot.CodeHTTPStatus || pe.Code == pivot.CodeEmptyBody || pe.Code == pivot.CodeBodyTooLarge {
			return out
		}
	}
	if resp == nil {
		return out
	}
	body := bytes.TrimSpace(bytes.TrimPrefix(resp.Body, []byte("\xef\xbb\xbf")))
	ct := resp.Header.Get("Content-Type")
	mt := pivot.MediaType(ct)
	looksXML := len(body) > 0 && body[0] == '<'
	looksJSON := len(body) > 0 && (body[0] == '{' || body[0] == '[')
	switch {
	case looksXML:
		out = append(out, lintTwiML(body)...)
		if in.ReqFormat != "twiml" {
			add("warning", 0, 0, "The server answered TwiML, but Format is Kazoo JSON: the request carries Kazoo's parameter names (Call-ID, Caller-ID-Number …), not Twilio's (CallSid, From …). Choose TwiML.")
		}
		if mt != "text/xml" && mt != "application/xml" && !strings.HasSuffix(mt, "+xml") {
			sev := "warning"
			if mt == "application/json" || strings.HasSuffix(mt, "+json") {
				sev = "error"
			}
			add(sev, pivot.CodeContentType, 0, "The answer is XML but its Content-Type is %q: send text/xml or application/xml.", orNone(ct))
		}
	case looksJSON:
		out = append(out, lintKazoo(body)...)
		if in.ReqFormat != "kazoo" {
			add("warning", 0, 0, "The server answered Kazoo JSON, but Format is TwiML: the request carries Twilio's parameter names (CallSid, From …), not Kazoo's. Choose Kazoo JSON.")
		}
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			sev := "warning"
			if mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml") {
				sev = "error"
			}
			add(sev, pivot.CodeContentType, 0, "The answer is JSON but its Content-Type is %q: send application/json.", orNone(ct))
		}
	case resp.Kind == pivot.KindText:
		add("warning", 0, 0, "The answer is plain text: a call reads it out and hangs up. Answer %s to control the call.", formatName(in.ReqFormat))
	case resp.Kind == pivot.KindAudio:
		add("info", 0, 0, "The answer is audio (%s): a call plays it and hangs up.", mt)
	case err == nil:
	default:
		add("error", pivot.CodeContentType, 0, "The answer is neither TwiML nor Kazoo JSON (Content-Type %q).", orNone(ct))
	}
	return out
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// lintTwiML parses TwiML as a call would and lists what it would refuse
// or skip.
func lintTwiML(body []byte) []Finding {
	doc, err := twiml.Parse(body)
	if err != nil {
		f := Finding{Severity: "error", Message: "The TwiML cannot be run: " + err.Error()}
		if te, ok := errors.AsType[*twiml.Error](err); ok {
			f.Code, f.Message = te.Code, "The TwiML cannot be run: "+te.Message
		}
		if m := lineRE.FindStringSubmatch(f.Message); m != nil {
			f.Line, _ = strconv.Atoi(m[1])
		}
		return []Finding{f}
	}
	var out []Finding
	for _, w := range doc.Warnings {
		out = append(out, Finding{Severity: "warning", Code: w.Code, Message: sentence(w.Message)})
	}
	if len(doc.Verbs) == 0 {
		out = append(out, Finding{Severity: "warning", Message: "The <Response> has no verb this server runs: a call would hang up at once."})
	}
	return out
}

// lintKazoo compiles a Kazoo JSON answer as a call would.
func lintKazoo(body []byte) []Finding {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		f := Finding{Severity: "error", Code: pivot.CodeParse, Message: "The JSON cannot be read: " + err.Error()}
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			f.Line = 1 + bytes.Count(body[:min(int(se.Offset), len(body))], []byte("\n"))
		}
		return []Finding{f}
	}
	if _, ok := v.(map[string]any); !ok {
		return []Finding{{Severity: "error", Code: pivot.CodeParse, Message: "The JSON is not an object: Kazoo answers are one call-flow node, {\"module\": …, \"data\": {…}, \"children\": {…}}."}}
	}
	_, coerced, err := callflow.CompileNodeCoerced(body)
	var out []Finding
	if err != nil {
		if ve, ok := errors.AsType[schema.ValidationError](err); ok {
			for _, f := range ve {
				out = append(out, Finding{Severity: "error", Code: pivot.CodeParse, Path: strings.TrimPrefix(strings.TrimPrefix(f.Path, "flow"), "."), Message: sentence(f.Message)})
			}
		} else {
			out = append(out, Finding{Severity: "error", Code: pivot.CodeParse, Message: "The Kazoo JSON cannot be run: " + err.Error()})
		}
	}
	for _, p := range coerced {
		out = append(out, Finding{Severity: "warning", Path: strings.TrimPrefix(strings.TrimPrefix(p, "flow"), "."), Message: "This value has the wrong JSON type (a string for a number, say); it is converted, as Kazoo does."})
	}
	return out
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func orNone(ct string) string {
	if ct == "" {
		return "none"
	}
	return ct
}

func formatName(f string) string {
	if f == "twiml" {
		return "TwiML"
	}
	return "Kazoo JSON"
}
