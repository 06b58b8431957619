package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/temporal"
)

// Temporal rules and rule sets: Kazoo's /temporal_rules and
// /temporal_rules_sets, the documents temporal_route reads. One set of
// handlers serves both kinds; the route table binds each to its kind.

var errNoTemporal = &Error{Status: http.StatusServiceUnavailable, Message: "temporal rules unavailable"}

// temporalStore is the store's temporal part, when it has one.
func (a *API) temporalStore() (store.TemporalStore, error) {
	if ts, ok := a.store.(store.TemporalStore); ok {
		return ts, nil
	}
	return nil, errNoTemporal
}

// temporalHandlers binds the handlers to a kind and its path parameter.
type temporalHandlers struct {
	kind  store.TemporalKind
	param string // "rule_id" or "rule_set_id"
}

var (
	ruleHandlers    = temporalHandlers{store.TemporalRuleKind, "rule_id"}
	ruleSetHandlers = temporalHandlers{store.TemporalRuleSetKind, "rule_set_id"}
)

func (h temporalHandlers) list(a *API, w http.ResponseWriter, r *http.Request) error {
	ts, err := a.temporalStore()
	if err != nil {
		return err
	}
	opts, startKey, err := listOptions(r)
	if err != nil {
		return err
	}
	page, more, err := ts.ListTemporal(r.Context(), h.kind, accountOf(r), opts)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(page))
	for _, d := range page {
		items = append(items, temporalSummary(d))
	}
	extra := map[string]any{"page_size": len(items)}
	if startKey != "" {
		extra["start_key"] = startKey
	}
	if more && len(page) > 0 {
		extra["next_start_key"] = encodeStartKey(page[len(page)-1].ID)
	}
	return a.success(w, r, http.StatusOK, items, "", extra)
}

// listOptions reads Kazoo's paging parameters (as listCallflows).
func listOptions(r *http.Request) (store.ListOptions, string, error) {
	q := r.URL.Query()
	opts := store.ListOptions{Limit: defaultPageSize}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return opts, "", fieldError(http.StatusBadRequest, "validation failed", "page_size", "range",
				fmt.Sprintf("page_size must be a whole number from 1 to %d", maxPageSize))
		}
		opts.Limit = n
	}
	if q.Get("paginate") == "false" {
		opts.Limit = 0
	}
	startKey := q.Get("start_key")
	if startKey != "" {
		after, err := decodeStartKey(startKey)
		if err != nil {
			return opts, "", fieldError(http.StatusBadRequest, "validation failed", "start_key", "format", "start_key is not one this server handed out")
		}
		opts.After = after
	}
	return opts, startKey, nil
}

// temporalSummary is one row of a listing: id and name, and a rule's cycle
// and override, or a set's rules.
func temporalSummary(d store.TemporalDoc) map[string]any {
	var doc map[string]any
	_ = json.Unmarshal(d.Body, &doc)
	out := map[string]any{"id": d.ID, "name": d.Name, "revision": d.Revision}
	for _, k := range []string{"cycle", "enabled", "temporal_rules", "flags"} {
		if v, ok := doc[k]; ok {
			out[k] = v
		}
	}
	return out
}

func (h temporalHandlers) create(a *API, w http.ResponseWriter, r *http.Request) error {
	ts, err := a.temporalStore()
	if err != nil {
		return err
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	d, err := h.prepare(a, r, ts, req.Data, store.NewID())
	if err != nil {
		return err
	}
	saved, err := ts.CreateTemporal(r.Context(), d)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusCreated, json.RawMessage(saved.Body), saved.Revision, nil)
}

func (h temporalHandlers) get(a *API, w http.ResponseWriter, r *http.Request) error {
	ts, err := a.temporalStore()
	if err != nil {
		return err
	}
	d, err := ts.GetTemporal(r.Context(), h.kind, accountOf(r), r.PathValue(h.param))
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, json.RawMessage(d.Body), d.Revision, nil)
}

// update replaces a document (Kazoo's POST); a stale revision gets 409.
func (h temporalHandlers) update(a *API, w http.ResponseWriter, r *http.Request) error {
	ts, err := a.temporalStore()
	if err != nil {
		return err
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	d, err := h.prepare(a, r, ts, req.Data, r.PathValue(h.param))
	if err != nil {
		return err
	}
	saved, err := ts.UpdateTemporal(r.Context(), d, req.Revision)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, json.RawMessage(saved.Body), saved.Revision, nil)
}

// patch merges the body into the stored document (a null removes a key),
// then checks the whole result.
func (h temporalHandlers) patch(a *API, w http.ResponseWriter, r *http.Request) error {
	ts, err := a.temporalStore()
	if err != nil {
		return err
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue(h.param)
	cur, err := ts.GetTemporal(r.Context(), h.kind, accountOf(r), id)
	if err != nil {
		return err
	}
	merged, err := mergeDocument(cur.Body, req.Data, string(h.kind), id)
	if err != nil {
		return err
	}
	d, err := h.prepare(a, r, ts, merged, id)
	if err != nil {
		return err
	}
	rev := req.Revision
	if rev == "" {
		rev = cur.Revision
	}
	saved, err := ts.UpdateTemporal(r.Context(), d, rev)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, json.RawMessage(saved.Body), saved.Revision, nil)
}

func (h temporalHandlers) remove(a *API, w http.ResponseWriter, r *http.Request) error {
	ts, err := a.temporalStore()
	if err != nil {
		return err
	}
	id := r.PathValue(h.param)
	rev := deleteRevision(r)
	cur, err := ts.GetTemporal(r.Context(), h.kind, accountOf(r), id)
	if err != nil {
		return err
	}
	if err := ts.DeleteTemporal(r.Context(), h.kind, accountOf(r), id, rev); err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, json.RawMessage(cur.Body), "", nil)
}

// prepare checks a document of the handlers' kind and returns it as
// stored: id set, Kazoo's defaults applied, unknown keys kept. A rule that
// can never make sense (time_window_start past 86400, month 13, day 32) and
// a set naming a rule that does not exist are refused, the field named.
func (h temporalHandlers) prepare(a *API, r *http.Request, ts store.TemporalStore, data []byte, id string) (store.TemporalDoc, error) {
	var name string
	switch h.kind {
	case store.TemporalRuleKind:
		rule, err := temporal.ParseRule(data)
		if err != nil {
			return store.TemporalDoc{}, badDocument(err)
		}
		name = rule.Name
	default:
		set, err := temporal.ParseRuleSet(data)
		if err != nil {
			return store.TemporalDoc{}, badDocument(err)
		}
		name = set.Name
		var missing schema.ValidationError
		for i, rid := range set.Rules {
			_, err := ts.GetTemporal(r.Context(), store.TemporalRuleKind, accountOf(r), rid)
			switch {
			case errors.Is(err, store.ErrNotFound):
				missing = append(missing, schema.FieldError{Path: "temporal_rules." + strconv.Itoa(i), Rule: "exists",
					Message: "No temporal rule has this id", Value: rid})
			case err != nil:
				return store.TemporalDoc{}, err
			}
		}
		if len(missing) > 0 {
			return store.TemporalDoc{}, missing
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return store.TemporalDoc{}, badDocument(err)
	}
	if h.kind == store.TemporalRuleKind {
		ruleDefaults(doc)
	}
	doc["id"] = id
	body, err := json.Marshal(doc)
	if err != nil {
		return store.TemporalDoc{}, fmt.Errorf("encode %s %s: %w", h.kind, id, err)
	}
	return store.TemporalDoc{Kind: h.kind, ID: id, AccountID: accountOf(r), Name: name, Body: body}, nil
}

// ruleDefaults writes Kazoo's temporal_rules schema defaults a rule lacks.
func ruleDefaults(doc map[string]any) {
	if _, ok := doc["interval"]; !ok {
		doc["interval"] = 1
	}
	if _, ok := doc["start_date"]; !ok && doc["cycle"] != "date" {
		doc["start_date"] = temporal.DefaultStartDate
	}
	if _, ok := doc["end_date"]; !ok {
		doc["end_date"] = 0
	}
}

// badDocument answers a document that did not parse: its ValidationError
// as is, anything else as invalid JSON (never a 500).
func badDocument(err error) error {
	if _, ok := errors.AsType[schema.ValidationError](err); ok {
		return err
	}
	return fieldError(http.StatusBadRequest, "invalid JSON", "data", "json", err.Error())
}
