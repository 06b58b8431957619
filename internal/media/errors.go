package media

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/switchboard/switchboard/internal/egress"
)

// Twilio's error codes for media that cannot be played, so that the TwiML
// interpreter can write the code a Twilio developer looks up in the trace's
// error line and then go on to the next verb (never dead air).
const (
	// CodeUnsupportedFormat is <Play>'s "invalid content type" (13420):
	// the media is not audio we can decode. Inside <Gather> Twilio reports
	// the same failure as 13325; the interpreter knows where it is.
	CodeUnsupportedFormat = 13420
	// CodeFetchFailed is "HTTP retrieval failure" (11200): an HTTP error
	// status, a body over the size limit, a broken transfer.
	CodeFetchFailed = 11200
	// CodeConnectionFailed is "HTTP connection failure" (11205): the
	// server could not be reached, or did not answer in time.
	CodeConnectionFailed = 11205
	// CodeBadHost is "HTTP bad host name" (11210): DNS found no address.
	CodeBadHost = 11210
	// CodeTooManyRedirects is "HTTP too many redirects" (11215).
	CodeTooManyRedirects = 11215
	// CodeTLSFailed is "TLS handshake failed" (11220).
	CodeTLSFailed = 11220
	// CodeBadURL is "invalid URL format" (11100).
	CodeBadURL = 11100
)

// ErrUnsupportedFormat is wrapped by every error for media that is not
// audio we can decode (not WAV or MP3, a WAV encoding we do not read,
// garbage), so callers can tell "skip this verb" from other failures.
var ErrUnsupportedFormat = errors.New("unsupported media format")

// ErrFetch is wrapped by every error for http(s) media that could not be
// fetched; ErrNotFound is wrapped as well for a 404.
var ErrFetch = errors.New("media fetch failed")

// Error is a media failure Twilio documents with an error code. It wraps
// ErrUnsupportedFormat or ErrFetch and the cause; use errors.Is for the
// kind and ErrorCode (or errors.As) for the code.
type Error struct {
	// Code is Twilio's error code (CodeUnsupportedFormat, CodeFetchFailed …).
	Code int
	// URL is the media that failed, for the trace.
	URL string
	// Err is the sentinel and cause.
	Err error
}

// Error says what failed, with the code.
func (e *Error) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("media: %v (%d)", e.Err, e.Code)
	}
	return fmt.Sprintf("media %s: %v (%d)", egress.RedactURL(e.URL), e.Err, e.Code)
}

// Unwrap gives errors.Is and errors.As the sentinel and the cause.
func (e *Error) Unwrap() error { return e.Err }

// TwilioCode is Code, for callers that must not import media (the TwiML
// interpreter finds it through an interface).
func (e *Error) TwilioCode() int { return e.Code }

// ErrorCode is the Twilio error code err carries, or 0 when it carries
// none (then the interpreter uses its generic application error).
func ErrorCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// unsupported wraps err as an unplayable format.
func unsupported(err error) error {
	if errors.Is(err, ErrUnsupportedFormat) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnsupportedFormat, err)
}

// fetchError classifies a failed download of rawURL with Twilio's code.
// A cancelled caller context is not a fetch failure and is returned as is.
func fetchError(ctx context.Context, rawURL string, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return context.Cause(ctx)
	}
	var me *Error
	if errors.As(err, &me) {
		if me.URL == "" {
			me.URL = rawURL
		}
		return me
	}
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		opErr   *net.OpError
		certErr *tls.CertificateVerificationError
		uaErr   x509.UnknownAuthorityError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
	)
	code := CodeFetchFailed
	switch {
	case errors.Is(err, errTooManyRedirects):
		code = CodeTooManyRedirects
	case errors.As(err, &dnsErr):
		code = CodeBadHost
	case errors.As(err, &certErr), errors.As(err, &uaErr), errors.As(err, &hostErr), errors.As(err, &recErr):
		code = CodeTLSFailed
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		code = CodeConnectionFailed
	case errors.As(err, &opErr) && opErr.Op == "dial":
		code = CodeConnectionFailed
	}
	var uErr *url.Error
	if errors.As(err, &uErr) && uErr.Op == "parse" {
		code = CodeBadURL
	}
	return &Error{Code: code, URL: rawURL, Err: fmt.Errorf("%w: %w", ErrFetch, err)}
}

// errTooManyRedirects ends a chain of more than maxRedirects.
var errTooManyRedirects = errors.New("too many redirects")
