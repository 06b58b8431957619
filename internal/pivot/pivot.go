// Package pivot is the webhook client of the Pivot block: it sends a call's
// parameters to a customer's web server the way Kazoo's pivot and Twilio do,
// follows redirects, signs the request, bounds the answer and says whether it
// is TwiML, a Kazoo callflow node, text to read out or audio to play. It runs
// no call logic.
package pivot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/internal/egress"
)

// Twilio error codes returned in Error.Code.
const (
	CodeInvalidURL       = 11100 // not an http/https URL, or unparseable
	CodeRetrieval        = 11200 // timeout, cancellation, other retrieval failure
	CodeConnection       = 11205 // the connection could not be made (after retries)
	CodeTooManyRedirects = 11215 // more than Config.MaxRedirects redirects
	CodeHTTPStatus       = 11217 // final status not 2xx
	CodeBodyTooLarge     = 11750 // body larger than Config.MaxBodyBytes
	CodeEmptyBody        = 11770 // 2xx with an empty body
	CodeParse            = 12100 // body not recognisable (bad XML, no <Response>, bad JSON)
	CodeContentType      = 12300 // content type not usable and body not sniffable

	// CodeRefused is a target the account's egress policy does not let it
	// reach (a private, loopback or link-local address): Twilio's 11200
	// family, never retried.
	CodeRefused = CodeRetrieval
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 64 << 10
	DefaultTimeout      = 5 * time.Second
	DefaultMaxRedirects = 10
	DefaultUserAgent    = "Switchboard/1 (TwilioProxy/1.1 compatible)"
	// LogBodyBytes bounds Exchange.ResponseBody.
	LogBodyBytes = 8 << 10
)

// Accept headers by Request.Format.
const (
	AcceptTwiML = "application/xml, text/xml, application/json;q=0.9, text/html;q=0.5, text/plain;q=0.2"
	AcceptKazoo = "application/json, application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.5, text/plain;q=0.2"
)

// Content types of POST bodies.
const (
	ContentTypeForm = "application/x-www-form-urlencoded; charset=utf-8"
	ContentTypeJSON = "application/json"
)

// ErrTimeout is matched (errors.Is) by the error of a request that did not
// complete within its timeout.
var ErrTimeout = errors.New("timeout")

// Error is a failed webhook request, with the Twilio error code that
// describes it.
type Error struct {
	Code    int
	Message string
	Status  int   // the final HTTP status when an answer came, else 0
	Err     error // the underlying error, if any
}

func newError(code int, msg string, err error) *Error {
	return &Error{Code: code, Message: msg, Err: err}
}

func (e *Error) Error() string {
	s := "pivot " + strconv.Itoa(e.Code) + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Config tunes a Client. Zero values take the defaults.
type Config struct {
	// MaxBodyBytes is the largest answer accepted (default 64 KiB, Twilio's
	// limit); one byte more is read so that an oversize body is detected
	// (11750) rather than cut.
	MaxBodyBytes int64
	// DefaultTimeout applies when Request.Timeout is 0 (default 5 s, Kazoo's
	// request_timeout_ms).
	DefaultTimeout time.Duration
	// MaxRedirects is the number of redirects followed (default 10, as
	// Twilio); one more is 11215. Negative: follow none.
	MaxRedirects int
	// UserAgent (default DefaultUserAgent).
	UserAgent string
	// Transport (nil: a clone of http.DefaultTransport keeping up to 64 idle
	// connections per host). The server gives an egress.Transport, which
	// checks every connection (redirect hops included) against the policy
	// of the account the request's context carries (egress.WithAccount).
	Transport http.RoundTripper
}

// Client sends webhook requests. It is safe for concurrent use.
type Client struct {
	cfg Config
	hc  *http.Client
}

// NewClient returns a client with cfg's zero fields defaulted.
func NewClient(cfg Config) *Client {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = DefaultTimeout
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	} else if cfg.MaxRedirects < 0 {
		cfg.MaxRedirects = 0
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 1024
		t.MaxIdleConnsPerHost = 64
		t.DisableKeepAlives = false
		cfg.Transport = t
	}
	return &Client{
		cfg: cfg,
		hc: &http.Client{
			Transport: cfg.Transport,
			// Redirects are followed by Do, which re-signs each hop.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Request is one webhook request.
type Request struct {
	// URL is the voice_url or action URL. It may carry a query string; a
	// #fragment (Twilio's connection overrides) is stripped, never sent.
	// user:password@ in it is sent as Basic authentication.
	URL string
	// Method is GET or POST in any case; anything else is POST (Kazoo).
	Method string
	// Format is "twiml" or "kazoo"; it only chooses the Accept header.
	Format string
	// BodyFormat is "form" (default) or "json", for POST.
	BodyFormat string
	Params     Params
	// Timeout bounds one attempt, redirects and body included (0: the
	// client's DefaultTimeout).
	Timeout time.Duration
	// Retries is the number of extra attempts made when the connection could
	// not be made (dial, DNS, refused), never after an answer or a timeout.
	Retries int
	// SigningKey, when set, signs the request with X-Twilio-Signature (the
	// account's auth token).
	SigningKey string
	// SwitchboardKey, when set, adds X-Switchboard-Signature and
	// X-Switchboard-Timestamp (see SwitchboardSignature).
	SwitchboardKey string
	// Now gives the signature timestamp (nil: time.Now).
	Now func() time.Time
}

// Response is a 2xx answer, classified. With an error, Do still returns the
// Response when a final (non-redirect) answer came, e.g. 11217, 11750, 11770,
// 12100, 12300; Kind is then KindUnknown.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	FinalURL string // the URL after redirects: the base for relative URLs
	Kind     Kind
}

// Exchange records a request and its answer for the debug log (Kazoo's
// pivot_debug documents; the call log keeps it).
type Exchange struct {
	Method          string
	URL             string // as requested, query included, password masked
	RequestHeaders  map[string]string
	RequestBody     string
	Status          int               // final status; 0 when no answer came
	ResponseHeaders map[string]string // lower-cased names
	ResponseBody    string            // at most LogBodyBytes
	Err             string
	Started         time.Time
	Duration        time.Duration
	Attempts        int    // connection attempts (1 + retries used)
	FinalURL        string // the last URL requested, after redirects
}

// hop is one HTTP request of a (possibly redirected) exchange.
type hop struct {
	method string
	u      *url.URL
	str    string // u.String()
	signed string // u without user info: the URL signatures cover
	body   string // sent as it is, and kept as the Exchange's RequestBody
	ctype  string
	form   []pair // POST form fields in signing order, for X-Twilio-Signature
	// pairs is the pooled buffer under form, given back when the exchange
	// ends (redirect hops share it).
	pairs *[]pair
}

var errAttemptTimeout = errors.New("pivot attempt timeout")

// Do sends r and classifies the answer. The Exchange is always returned; the
// Response whenever an answer came, even with an error. Errors are *Error; a
// cancelled ctx gives an error matching both ctx.Err() and context.Cause(ctx).
func (c *Client) Do(ctx context.Context, r Request) (*Response, *Exchange, error) {
	start := time.Now()
	ex := &Exchange{Started: start}
	resp, err := c.do(ctx, r, ex)
	ex.Duration = time.Since(start)
	if err != nil {
		ex.Err = err.Error()
		return resp, ex, err
	}
	return resp, ex, nil
}

func (c *Client) do(ctx context.Context, r Request, ex *Exchange) (*Response, error) {
	h, err := c.prepare(r, ex)
	if err != nil {
		return nil, err
	}
	if h.pairs != nil {
		defer putPairs(h.pairs)
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	accept := AcceptTwiML
	if strings.EqualFold(r.Format, "kazoo") {
		accept = AcceptKazoo
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = c.cfg.DefaultTimeout
	}
	newAttempt := func() (context.Context, context.CancelFunc) {
		return context.WithTimeoutCause(ctx, timeout, errAttemptTimeout)
	}
	actx, cancel := newAttempt()
	defer func() { cancel() }()

	retries := r.Retries
	redirects := 0
	ex.Attempts = 1
	for {
		req, err := h.request(actx)
		if err != nil {
			return nil, newError(CodeInvalidURL, "invalid URL", err)
		}
		// The header map is written directly, its keys in canonical form
		// and its values in one array: Header.Set per field costs an
		// allocation each.
		vals := make([]string, 0, 6)
		hdr := req.Header
		vals = addHeader(hdr, vals, "User-Agent", c.cfg.UserAgent)
		vals = addHeader(hdr, vals, "Accept", accept)
		if h.ctype != "" {
			vals = addHeader(hdr, vals, "Content-Type", h.ctype)
		}
		if r.SigningKey != "" {
			vals = addHeader(hdr, vals, "X-Twilio-Signature", twilioSignature(r.SigningKey, h.signed, h.form))
		}
		if r.SwitchboardKey != "" {
			ts := now().Unix()
			vals = addHeader(hdr, vals, "X-Switchboard-Timestamp", strconv.FormatInt(ts, 10))
			addHeader(hdr, vals, "X-Switchboard-Signature", switchboardSignature(r.SwitchboardKey, ts, h.method, h.signed, h.body))
		}
		if ex.RequestHeaders == nil {
			ex.RequestHeaders = make(map[string]string, len(hdr))
			for k, v := range hdr {
				ex.RequestHeaders[k] = strings.Join(v, ", ")
			}
		}
		ex.FinalURL = egress.RedactURL(h.str)
		// A customer server may close a kept-alive connection just as the
		// next request goes out on it (Node's default keepAliveTimeout is
		// 5 s): the request then fails with a reset before any answer.
		// An X-Idempotency-Key entry with no value (never sent) lets the
		// transport send it again on a new connection in that case only,
		// as it does for a GET; Twilio also retries such a failure.
		hdr["X-Idempotency-Key"] = nil

		hr, err := c.roundTrip(req)
		if err != nil && errors.Is(err, egress.ErrRefused) {
			// Nothing was sent to the target: no retry, no answer to keep.
			return nil, newError(CodeRefused, "refused by the egress policy", unwrapURLError(err))
		}
		if err != nil {
			if e := c.failure(ctx, actx, timeout, "", err); e != nil {
				return nil, e
			}
			// A dial failure: nothing reached the server.
			if retries > 0 {
				retries--
				if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
					return nil, cancelled(ctx)
				}
				cancel()
				actx, cancel = newAttempt()
				ex.Attempts++
				continue
			}
			return nil, newError(CodeConnection, "connection failure", unwrapURLError(err))
		}

		limit := c.cfg.MaxBodyBytes
		body, rerr := readBody(hr.Body, limit, hr.ContentLength)
		hr.Body.Close()
		ex.Status = hr.StatusCode
		ex.ResponseHeaders = lowerHeaders(hr.Header)
		ex.ResponseBody = truncateUTF8(body, LogBodyBytes)
		if rerr != nil {
			if e := c.failure(ctx, actx, timeout, " reading the body", rerr); e != nil {
				e.Status = hr.StatusCode
				return nil, e
			}
			return nil, &Error{Code: CodeRetrieval, Message: "HTTP retrieval failure reading the body", Status: hr.StatusCode, Err: rerr}
		}

		if loc := hr.Header.Get("Location"); loc != "" && isRedirect(hr.StatusCode) {
			redirects++
			if redirects > c.cfg.MaxRedirects {
				return nil, &Error{Code: CodeTooManyRedirects, Message: fmt.Sprintf("too many redirects (more than %d)", c.cfg.MaxRedirects), Status: hr.StatusCode}
			}
			next, err := c.redirect(h, hr.StatusCode, loc)
			if err != nil {
				err.Status = hr.StatusCode
				return nil, err
			}
			h = next
			continue
		}

		resp := &Response{Status: hr.StatusCode, Header: hr.Header, Body: body, FinalURL: h.str}
		switch {
		case hr.StatusCode < 200 || hr.StatusCode > 299:
			return resp, &Error{Code: CodeHTTPStatus, Message: "HTTP error response code " + strconv.Itoa(hr.StatusCode), Status: hr.StatusCode}
		case int64(len(body)) > limit:
			return resp, &Error{Code: CodeBodyTooLarge, Message: fmt.Sprintf("response body larger than %d bytes", limit), Status: hr.StatusCode}
		case len(body) == 0:
			return resp, &Error{Code: CodeEmptyBody, Message: "empty response body", Status: hr.StatusCode}
		}
		kind, err := Classify(hr.Header.Get("Content-Type"), body)
		if err != nil {
			e := err.(*Error)
			e.Status = hr.StatusCode
			return resp, e
		}
		resp.Kind = kind
		return resp, nil
	}
}

// prepare validates the URL and builds the first hop.
func (c *Client) prepare(r Request, ex *Exchange) (*hop, error) {
	raw := strings.TrimSpace(r.URL)
	raw, _, _ = strings.Cut(raw, "#")
	method := http.MethodPost
	if strings.EqualFold(strings.TrimSpace(r.Method), http.MethodGet) {
		method = http.MethodGet
	}
	ex.Method, ex.URL = method, raw
	parsed, perr := url.Parse(raw)
	if perr == nil {
		ex.URL = egress.RedactURL(parsed.String())
	}
	if err := checkParsedURL(parsed, perr); err != nil {
		return nil, err
	}

	ps := dedupe(r.Params)
	h := &hop{method: method}
	target := raw
	switch {
	case method == http.MethodGet:
		buf := getPairs()
		*buf = flattenInto((*buf)[:0], ps)
		target = appendQuery(raw, encodeForm(*buf))
		putPairs(buf)
	case strings.EqualFold(r.BodyFormat, "json"):
		body, err := encodeJSON(ps)
		if err != nil {
			return nil, newError(CodeRetrieval, "cannot encode the request", err)
		}
		h.body, h.ctype = string(body), ContentTypeJSON
		if r.SigningKey != "" {
			target = appendQuery(raw, "bodySHA256="+bodySHA256(body))
		}
	default:
		h.pairs = getPairs()
		*h.pairs = flattenInto((*h.pairs)[:0], ps)
		h.body, h.ctype = encodeForm(*h.pairs), ContentTypeForm
		h.form = signPairs(*h.pairs)
	}
	u := parsed // the URL as checked, unless parameters were added to it
	if target != raw {
		var err error
		if u, err = url.Parse(target); err != nil {
			return nil, newError(CodeInvalidURL, "invalid URL", err)
		}
	}
	h.setURL(u)
	ex.URL = egress.RedactURL(h.str)
	ex.RequestBody = h.body
	return h, nil
}

func (h *hop) setURL(u *url.URL) {
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" && u.RawPath == "" {
		u.Path = "/" // what goes on the wire, and what a server reconstructs
	}
	h.u = u
	h.str = u.String()
	if u.User == nil {
		h.signed = h.str
	} else {
		v := *u
		v.User = nil
		h.signed = v.String()
	}
}

func checkURL(raw string) *Error {
	return checkParsedURL(url.Parse(raw))
}

// checkParsedURL is checkURL on url.Parse's results.
func checkParsedURL(u *url.URL, err error) *Error {
	if err != nil {
		return newError(CodeInvalidURL, "invalid URL", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return newError(CodeInvalidURL, "invalid URL: scheme must be http or https", nil)
	}
	if u.Host == "" || u.Hostname() == "" {
		return newError(CodeInvalidURL, "invalid URL: no host", nil)
	}
	return nil
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// request is the hop's HTTP request: its URL a copy of the hop's, parsed
// once for the whole exchange (written over the empty one the request
// was made with), and an empty header for do to fill. Every method but
// GET sends the body, empty or not.
func (h *hop) request(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if h.method != http.MethodGet {
		body = strings.NewReader(h.body)
	}
	req, err := http.NewRequestWithContext(ctx, h.method, "", body)
	if err != nil {
		return nil, err
	}
	*req.URL = *h.u
	req.Host = removeEmptyPort(req.URL.Host)
	return req, nil
}

// removeEmptyPort strips the empty port of "host:", as
// http.NewRequest does with the Host it takes from the URL.
func removeEmptyPort(host string) string {
	if strings.LastIndex(host, ":") > strings.LastIndex(host, "]") {
		return strings.TrimSuffix(host, ":")
	}
	return host
}

// addHeader sets header k (canonical) to v, taking v's one-element slice
// from vals.
func addHeader(h http.Header, vals []string, k, v string) []string {
	vals = append(vals, v)
	h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	return vals
}

// roundTrip sends one request on the transport, as http.Client.Do would
// with redirects left to do (CheckRedirect is ErrUseLastResponse): the
// URL's user:password@ as Basic authentication, errors as *url.Error. It
// skips the client's copies of the header and URL, kept there for
// redirects that Do follows itself.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	if u := req.URL.User; u != nil && req.Header.Get("Authorization") == "" {
		password, _ := u.Password()
		req.SetBasicAuth(u.Username(), password)
	}
	hr, err := c.cfg.Transport.RoundTrip(req)
	if err != nil {
		if hr != nil && hr.Body != nil {
			hr.Body.Close()
		}
		return nil, &url.Error{Op: urlErrorOp(req.Method), URL: egress.RedactURL(req.URL.String()), Err: err}
	}
	if hr == nil {
		return nil, &url.Error{Op: urlErrorOp(req.Method), URL: egress.RedactURL(req.URL.String()), Err: errors.New("transport returned no response")}
	}
	if hr.Body == nil {
		hr.Body = http.NoBody
	}
	return hr, nil
}

// urlErrorOp is the Op of a *url.Error, as http.Client names it.
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// readBody reads at most limit+1 bytes of r (one more than allowed, so that
// an oversize answer is seen), into one slice when the size is announced.
func readBody(r io.Reader, limit, size int64) ([]byte, error) {
	n := int64(512)
	if size >= 0 && size <= limit {
		n = size + 1 // room for the read that sees the end
	}
	b := make([]byte, 0, n)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := min(int64(cap(b)), limit+1)
		m, err := r.Read(b[len(b):room])
		b = b[:len(b)+m]
		if int64(len(b)) > limit {
			return b, nil
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// redirect builds the hop that follows a 3xx: 301/302/303 turn a POST into a
// GET without body; 307/308 repeat the method and body.
func (c *Client) redirect(h *hop, status int, loc string) (*hop, *Error) {
	ref, err := url.Parse(strings.TrimSpace(loc))
	if err != nil {
		return nil, newError(CodeInvalidURL, "invalid redirect URL", err)
	}
	u := h.u.ResolveReference(ref)
	if err := checkURL(u.String()); err != nil {
		err.Message = "invalid redirect " + strings.TrimPrefix(err.Message, "invalid ")
		return nil, err
	}
	if ref.User == nil && u.Host != h.u.Host {
		u.User = nil // no credentials to another host
	}
	next := &hop{method: h.method, body: h.body, ctype: h.ctype, form: h.form}
	if status != http.StatusTemporaryRedirect && status != http.StatusPermanentRedirect && h.method != http.MethodGet {
		next.method, next.body, next.ctype, next.form = http.MethodGet, "", "", nil
	}
	next.setURL(u)
	return next, nil
}

// failure classifies a transport error: the caller's cancellation, the
// attempt's timeout, or (nil) a dial failure that may be retried; any other
// error is a generic retrieval failure.
func (c *Client) failure(ctx, actx context.Context, timeout time.Duration, phase string, err error) *Error {
	if ctx.Err() != nil {
		return cancelled(ctx)
	}
	if errors.Is(context.Cause(actx), errAttemptTimeout) {
		return newError(CodeRetrieval, "timeout: no complete answer within "+timeout.String()+phase, ErrTimeout)
	}
	if phase == "" && isDialError(err) {
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return newError(CodeRetrieval, "timeout"+phase, fmt.Errorf("%w: %w", ErrTimeout, unwrapURLError(err)))
	}
	return newError(CodeRetrieval, "HTTP retrieval failure"+phase, unwrapURLError(err))
}

func cancelled(ctx context.Context) *Error {
	err, cause := ctx.Err(), context.Cause(ctx)
	if cause != nil && cause != err {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	return newError(CodeRetrieval, "request cancelled", err)
}

// isDialError reports whether err means no connection was made: the dial
// failed (refused, unreachable, DNS), so the server saw nothing.
func isDialError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func lowerHeaders(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, v := range h {
		m[lowerName(k)] = strings.Join(v, ", ")
	}
	return m
}

// lowerName is strings.ToLower of a header name, with the names most
// answers carry as constants: ToLower makes a string for each.
func lowerName(k string) string {
	switch k {
	case "Content-Type":
		return "content-type"
	case "Content-Length":
		return "content-length"
	case "Date":
		return "date"
	case "Server":
		return "server"
	case "Connection":
		return "connection"
	case "Keep-Alive":
		return "keep-alive"
	case "Cache-Control":
		return "cache-control"
	case "Etag":
		return "etag"
	case "X-Powered-By":
		return "x-powered-by"
	}
	return strings.ToLower(k)
}
