package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/pivot"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/twiml"
	"github.com/switchboard/switchboard/internal/voicemail"
)

// Deps are every dependency the call-flow modules use, built once by the
// server, which checks them with Validate before it builds the engine, so
// a missing one stops `serve` at start instead of failing a call; the
// engine hands them to every module untouched.
type Deps struct {
	// Flows loads stored call flows (the callflow module).
	Flows engine.FlowSource
	// Numbers routes numbers dialled inside a call (menu dial-by-extension,
	// disa).
	Numbers engine.NumberRouter
	// Webhooks sends requests to customer servers (pivot, webhook).
	Webhooks *pivot.Client
	// CallLog keeps every webhook exchange for the admin's debugging view.
	CallLog WebhookLog
	// Queues hold the callers of TwiML's <Enqueue>.
	Queues *twiml.Queues
	// TemporalRules are the stored time-of-day rules (temporal_route).
	TemporalRules TemporalRules
	// LocalMedia, optional, maps a media URL of the account's own
	// recordings to the media reference behind it ("recording:<name>"),
	// so TwiML's <Play> of a RecordingUrl always works inside Switchboard
	// (no credentials, no expiry); nil plays every URL over HTTP.
	LocalMedia func(accountID, url string) (ref string, ok bool)
	// Documents reads the account's stored documents by id (the menu
	// module's menu document).
	Documents DocumentReader
	// Writes changes the account's stored documents (the feature codes:
	// a user's call forwarding and do-not-disturb).
	Writes DocumentWriter
	// Voicemail keeps voicemail boxes' messages (the voicemail module);
	// optional: without it the module says the box is unavailable.
	Voicemail *voicemail.Store
}

var _ engine.Deps = (*Deps)(nil)

// ErrMissingDep is wrapped by Validate's error for each dependency not set.
var ErrMissingDep = errors.New("dependency not set")

// Validate reports every dependency that is not set.
func (d *Deps) Validate() error {
	if d == nil {
		return fmt.Errorf("actions.Deps: %w", ErrMissingDep)
	}
	var errs []error
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Flows", d.Flows != nil},
		{"Numbers", d.Numbers != nil},
		{"Webhooks", d.Webhooks != nil},
		{"CallLog", d.CallLog != nil},
		{"Queues", d.Queues != nil},
		{"TemporalRules", d.TemporalRules != nil},
		{"Documents", d.Documents != nil},
		{"Writes", d.Writes != nil},
	} {
		if !f.set {
			errs = append(errs, fmt.Errorf("actions.Deps.%s: %w", f.name, ErrMissingDep))
		}
	}
	return errors.Join(errs...)
}

// none are the dependencies of an engine built without any (a test): each
// module fails cleanly on the one it lacks.
var none = &Deps{}

// deps returns the call's dependencies.
func deps(x *engine.Exec) *Deps {
	if d, ok := x.Deps.(*Deps); ok && d != nil {
		return d
	}
	return none
}

// asAccount tags ctx with the call's account, so that the webhook client's
// egress policy judges every connection (and redirect hop) of a request
// by the account whose flow or webhook answer asked for it.
func asAccount(ctx context.Context, x *engine.Exec) context.Context {
	return egress.WithAccount(ctx, x.Call.Info().AccountID)
}

// WebhookLog keeps webhook exchanges (store.CallLog does).
type WebhookLog interface {
	AddWebhook(ctx context.Context, w store.WebhookRecord) error
}

// logWebhook keeps one exchange in the call log; a failed write is logged
// and never fails the call.
func (d *Deps) logWebhook(ctx context.Context, log *slog.Logger, info call.Info, ex *pivot.Exchange, iteration int) {
	if d.CallLog == nil {
		return
	}
	if err := d.CallLog.AddWebhook(ctx, webhookRecord(ex, info.AccountID, info.ID, iteration)); err != nil {
		log.Warn("webhook log write failed", "err", err)
	}
}

// webhookRecord converts an exchange for the call log.
func webhookRecord(e *pivot.Exchange, accountID, callID string, iteration int) store.WebhookRecord {
	return store.WebhookRecord{
		AccountID:       accountID,
		CallID:          callID,
		Iteration:       iteration,
		Method:          e.Method,
		URL:             e.URL,
		RequestHeaders:  e.RequestHeaders,
		RequestBody:     e.RequestBody,
		Status:          e.Status,
		ResponseHeaders: e.ResponseHeaders,
		ResponseBody:    e.ResponseBody,
		Error:           e.Err,
		Started:         e.Started,
		Duration:        e.Duration,
	}
}
