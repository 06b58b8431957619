package actions

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/pivot"
)

func init() {
	engine.Register(engine.Spec{
		Name: "webhook", Group: "Advanced", Label: "Webhook", Icon: "webhook",
		Doc:    "Notify a web server of the call and go on without waiting.",
		Schema: schema("webhook"), Branches: []string{"_"},
		New: func() engine.Action { return new(Webhook) },
	})
}

// Webhook notifies a web server of the call (Kazoo's webhook module, a
// "callflow" hook) and goes on at once: the request runs beside the call,
// and the call's end waits for it at most webhookBound. Its answer is
// ignored; the exchange is kept in the call log.
type Webhook struct {
	URI string `json:"uri"`
	// HTTPVerb is get or post.
	HTTPVerb string `json:"http_verb,omitempty"`
	// Retries is how many more attempts follow a connection failure.
	Retries *int `json:"retries,omitempty"`
	// CustomData is added to the request, over the call's fields.
	CustomData map[string]any `json:"custom_data,omitempty"`
	// Format is how a POST body is encoded: form-data (Kazoo's webhooks'
	// default) or json (ours, as Kazoo's hook documents have it).
	Format string `json:"format,omitempty"`
}

const (
	webhookTimeout = 5 * time.Second  // one attempt
	webhookBound   = 20 * time.Second // every attempt, after which it is cancelled
)

// Exec starts the request and returns "_" at once. The "webhook" line is
// written when the request is sent: its status is 0 and "async" true, as
// the answer comes later (the call log keeps it).
func (a *Webhook) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	d := deps(x)
	if d.Webhooks == nil {
		return "_", errNoWebhooks
	}
	method := "POST"
	if a.HTTPVerb == "get" {
		method = "GET"
	}
	retries := 3
	if a.Retries != nil {
		retries = *a.Retries
	}
	bodyFormat := "form"
	if a.Format == "json" {
		bodyFormat = "json"
	}
	params := a.params(x)
	shown := egress.RedactURL(a.URI)
	x.Trace.Add("webhook", "method", method, "url", shown, "format", "kazoo", "status", 0,
		"params", paramsObject(params), "async", true, "module", x.Node.Module, "node", x.Node.Path)

	req := pivot.Request{
		URL: a.URI, Method: method, Format: "kazoo", BodyFormat: bodyFormat, Params: params,
		Timeout: webhookTimeout, Retries: retries,
		SigningKey: x.Account.SigningSecret, SwitchboardKey: x.Account.SigningSecret,
	}
	info := x.Call.Info()
	log := x.Log
	// The request outlives the caller's hangup (a notification of the call
	// is still wanted then), never the bound; the call's end waits for it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(asAccount(ctx, x)), webhookBound)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		_, ex, err := d.Webhooks.Do(rctx, req)
		if err != nil && (ex.Status < 200 || ex.Status > 299) {
			log.Warn("webhook failed", "url", shown, "err", err)
		}
		d.logWebhook(rctx, log, info, ex, 0)
	}()
	x.OnEnd(func(context.Context, engine.Result) { <-done })
	return "_", nil
}

// params are Kazoo's call fields (snake_case, as its webhooks send them),
// then custom_data over them.
func (a *Webhook) params(x *engine.Exec) pivot.Params {
	info := x.Call.Info()
	number, name := x.Vars.CallerID(info)
	var flowID any // nil: not sent
	if info.CallflowID != "" {
		flowID = info.CallflowID
	}
	ps := pivot.Params{
		{Key: "hook_event", Value: "callflow"},
		{Key: "account_id", Value: info.AccountID},
		{Key: "call_id", Value: info.ID},
		{Key: "callflow_id", Value: flowID},
		{Key: "caller_id_name", Value: nonEmpty(name, number)},
		{Key: "caller_id_number", Value: number},
		{Key: "from", Value: userAt(info.From, info.FromRealm)},
		{Key: "to", Value: userAt(nonEmpty(info.To, info.Request), info.ToRealm)},
		{Key: "request", Value: userAt(info.Request, info.ToRealm)},
		{Key: "call_direction", Value: "inbound"},
		{Key: "language", Value: x.Vars.Language("en-US")},
		{Key: "timestamp", Value: x.Now().Unix()},
	}
	if vars := x.Vars.All(); len(vars) > 0 {
		cav := make(map[string]any, len(vars))
		for _, kv := range vars {
			cav[kv[0]] = kv[1]
		}
		ps = append(ps, pivot.Param{Key: "custom_application_vars", Value: cav})
	}
	for _, k := range slices.Sorted(maps.Keys(a.CustomData)) {
		ps = append(ps, pivot.Param{Key: k, Value: customValue(a.CustomData[k])})
	}
	return ps
}

// userAt is "user@realm", or the user alone without a realm.
func userAt(user, realm string) string {
	if realm == "" {
		return user
	}
	return user + "@" + realm
}

// customValue makes a custom_data value sendable: scalars and objects as
// they are, anything else as its JSON text.
func customValue(v any) any {
	switch t := v.(type) {
	case string, bool, json.Number, float64, map[string]any, []any:
		return t
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var _ engine.Action = (*Webhook)(nil)
