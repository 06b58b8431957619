package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/store"
)

// Simulator runs simulated calls: the server, which owns the router and the
// engine the API must not import. Simulate fails with an error wrapping
// sim.ErrNoRoute or sim.ErrBadScript before any call runs when it cannot
// route the number or follow the script.
type Simulator interface {
	Simulate(ctx context.Context, o sim.SimulateOptions, w io.Writer) (callID string, tr *call.Trace, res engine.Result, err error)
}

var errNoCallLog = &Error{Status: http.StatusServiceUnavailable, Message: "call log unavailable"}

// simulate runs a test call through the account's flows and answers its
// trace: the configurator's Test call panel.
func (a *API) simulate(w http.ResponseWriter, r *http.Request) error {
	if a.sim == nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "simulation unavailable"}
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	var o sim.SimulateOptions
	if at, ok := dataString(req.Data, "at"); ok {
		if _, err := time.Parse(time.RFC3339, at); err != nil {
			return fieldError(http.StatusBadRequest, "validation failed", "at", "format", "at must be an RFC 3339 time such as 2025-12-25T09:30:00+01:00")
		}
	}
	if err := json.Unmarshal(req.Data, &o); err != nil {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "type", "to must be a string, inputs and dials lists of strings: "+err.Error())
	}
	o.To = strings.TrimSpace(o.To)
	if o.To == "" {
		return fieldError(http.StatusBadRequest, "validation failed", "to", "required", "Field is required but missing")
	}
	if len(o.Inputs) > 100 || len(o.Dials) > 100 {
		return fieldError(http.StatusBadRequest, "validation failed", "inputs", "maxItems", "at most 100 inputs and 100 dial outcomes")
	}
	o.AccountID = accountOf(r)
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	id, tr, res, err := a.sim.Simulate(ctx, o, nil)
	if err != nil {
		switch {
		case errors.Is(err, sim.ErrNoRoute):
			// The account's id is the server's business: the admin reads
			// the number they dialled.
			return fieldError(http.StatusNotFound, "no call flow for this number", "to", "route",
				fmt.Sprintf("No call flow has the number %s in this account", o.To))
		case errors.Is(err, sim.ErrBadScript):
			return fieldError(http.StatusBadRequest, "validation failed", "inputs", "script", err.Error())
		}
		return fmt.Errorf("simulate a call to %s: %w", o.To, err)
	}
	return a.success(w, r, http.StatusOK, map[string]any{
		"call_id": id, "trace": tr.Events(),
		"result": map[string]any{"cause": res.Cause, "by": res.By, "nodes": res.Nodes},
	}, "", nil)
}

func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("page_size")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, fieldError(http.StatusBadRequest, "validation failed", "page_size", "range", "page_size must be a whole number from 1 to 1000")
	}
	return n, nil
}

func callSummary(c store.CallRecord) map[string]any {
	m := map[string]any{
		"call_id": c.ID, "callflow_id": c.CallflowID, "from": c.From, "to": c.To,
		"started": c.Started.UTC().Format(time.RFC3339Nano), "hangup_cause": c.HangupCause, "hangup_by": c.HangupBy,
		"debug": c.Debug,
	}
	if c.SIPCallID != "" {
		m["sip_call_id"] = c.SIPCallID
	}
	if !c.Ended.IsZero() {
		m["ended"] = c.Ended.UTC().Format(time.RFC3339Nano)
		m["duration_ms"] = c.Ended.Sub(c.Started).Milliseconds()
	}
	m["status"] = callStatus(c)
	return m
}

// callStatus says in one word how a call went: "in_progress";
// "refused" (ended with a SIP refusal before any call flow ran: an
// untrusted source, an overload, a number no flow handles …); for a call
// whose flow ended it unanswered, what the caller got, in Twilio's words:
// "busy" (486, 600), "no-answer" (408, 480: a do-not-disturb user, no
// phone registered, a flow that ends without answering), "failed" (any
// other refusal); else "completed".
func callStatus(c store.CallRecord) string {
	code, refused := strings.CutPrefix(c.HangupCause, "sip:")
	refused = refused && c.HangupBy == "switchboard"
	switch {
	case c.Ended.IsZero():
		return "in_progress"
	case refused && c.CallflowID == "":
		return "refused"
	case refused:
		switch code {
		case "486", "600":
			return "busy"
		case "408", "480":
			return "no-answer"
		case "487":
			return "canceled"
		}
		return "failed"
	}
	return "completed"
}

// listRefused answers GET …/calls/refused: the account's recent refused
// calls (as in …/calls) and their count by cause, so an admin sees why a
// number "does not work". page_size bounds how many recent calls are
// looked at (1000 at most).
func (a *API) listRefused(w http.ResponseWriter, r *http.Request) error {
	if a.callLog == nil {
		return errNoCallLog
	}
	n, err := limitParam(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("page_size") == "" {
		n = 1000
	}
	calls, err := a.callLog.ListCalls(r.Context(), accountOf(r), n)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	refused := []map[string]any{}
	for _, c := range calls {
		if callStatus(c) != "refused" {
			continue
		}
		counts[c.HangupCause]++
		refused = append(refused, callSummary(c))
	}
	return a.success(w, r, http.StatusOK, map[string]any{"counts": counts, "calls": refused}, "", nil)
}

// listCalls lists the account's recent calls, newest first.
func (a *API) listCalls(w http.ResponseWriter, r *http.Request) error {
	if a.callLog == nil {
		return errNoCallLog
	}
	n, err := limitParam(r)
	if err != nil {
		return err
	}
	calls, err := a.callLog.ListCalls(r.Context(), accountOf(r), n)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(calls))
	for _, c := range calls {
		out = append(out, callSummary(c))
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// callTrace answers a call's trace: data is the list of trace lines (or,
// with ?format=jsonl, the JSON Lines themselves).
func (a *API) callTrace(w http.ResponseWriter, r *http.Request) error {
	if a.callLog == nil {
		return errNoCallLog
	}
	c, err := a.callLog.GetCall(r.Context(), accountOf(r), r.PathValue("call_id"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "jsonl" {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, err := w.Write(c.Trace)
		return err
	}
	events := []json.RawMessage{}
	for _, line := range strings.Split(strings.TrimSpace(string(c.Trace)), "\n") {
		if line != "" && json.Valid([]byte(line)) {
			events = append(events, json.RawMessage(line))
		}
	}
	return a.success(w, r, http.StatusOK, events, "", map[string]any{"call": callSummary(c)})
}

func webhookJSON(h store.WebhookRecord) map[string]any {
	return map[string]any{
		"call_id": h.CallID, "iteration": h.Iteration, "method": h.Method, "uri": h.URL,
		"req_headers": h.RequestHeaders, "req_body": h.RequestBody,
		"resp_status_code": h.Status, "resp_headers": h.ResponseHeaders, "resp_body": h.ResponseBody,
		"error": h.Error, "created": h.Started.UTC().Format(time.RFC3339Nano), "duration_ms": h.Duration.Milliseconds(),
	}
}

// pivotDebugList is Kazoo's GET /pivot/debug: one summary per call.
func (a *API) pivotDebugList(w http.ResponseWriter, r *http.Request) error {
	if a.callLog == nil {
		return errNoCallLog
	}
	n, err := limitParam(r)
	if err != nil {
		return err
	}
	firsts, err := a.callLog.WebhookCalls(r.Context(), accountOf(r), n)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(firsts))
	for _, h := range firsts {
		out = append(out, map[string]any{
			"call_id": h.CallID, "created": h.Started.UTC().Format(time.RFC3339Nano), "uri": h.URL, "method": h.Method,
			"status_code": h.Status, "iteration": h.Iteration, "error": h.Error, "debug_id": h.CallID,
		})
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// pivotDebugCall is Kazoo's GET /pivot/debug/{CALL_ID}: every exchange of
// the call, in order.
func (a *API) pivotDebugCall(w http.ResponseWriter, r *http.Request) error {
	if a.callLog == nil {
		return errNoCallLog
	}
	hooks, err := a.callLog.Webhooks(r.Context(), accountOf(r), r.PathValue("call_id"))
	if err != nil {
		return err
	}
	if len(hooks) == 0 {
		return toError(store.ErrNotFound)
	}
	out := make([]map[string]any, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, webhookJSON(h))
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}
