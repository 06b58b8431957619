package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/store"
)

const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// listCallflows is Kazoo's listing: a summary of each flow, paginated with
// page_size, start_key and next_start_key.
func (a *API) listCallflows(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opts := store.ListOptions{Limit: defaultPageSize}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return fieldError(http.StatusBadRequest, "validation failed", "page_size", "range",
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
			return fieldError(http.StatusBadRequest, "validation failed", "start_key", "format", "start_key is not one this server handed out")
		}
		opts.After = after
	}
	page, more, err := a.store.ListCallflows(r.Context(), accountOf(r), opts)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(page))
	for _, c := range page {
		items = append(items, summary(c))
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

func encodeStartKey(afterID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + afterID))
}

func decodeStartKey(k string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return "", err
	}
	id, ok := bytes.CutPrefix(b, []byte("after:"))
	if !ok {
		return "", fmt.Errorf("bad start key")
	}
	return string(id), nil
}

// summary is one row of a listing, Kazoo's crossbar_listing view.
func summary(c store.Callflow) map[string]any {
	var doc map[string]any
	_ = json.Unmarshal(c.Body, &doc)
	out := map[string]any{
		"id":          c.ID,
		"name":        c.Name,
		"numbers":     nonNil(c.Numbers),
		"patterns":    nonNil(c.Patterns),
		"featurecode": false,
		"modules":     modulesOf(doc["flow"]),
		"revision":    c.Revision,
	}
	if fc, ok := doc["featurecode"].(map[string]any); ok {
		out["featurecode"] = fc
	}
	for _, k := range []string{"type", "owner_id", "group_id", "flags"} {
		if v, ok := doc[k]; ok {
			out[k] = v
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// modulesOf lists the distinct modules of a flow tree, skipping skipped
// ones, in first-seen order.
func modulesOf(node any) []string {
	var out []string
	var walk func(n any, depth int)
	walk = func(n any, depth int) {
		m, ok := n.(map[string]any)
		if !ok || depth > 256 {
			return
		}
		if mod, ok := m["module"].(string); ok {
			data, _ := m["data"].(map[string]any)
			if skip, _ := data["skip_module"].(bool); !skip && !slices.Contains(out, mod) {
				out = append(out, mod)
			}
		}
		children, _ := m["children"].(map[string]any)
		keys := make([]string, 0, len(children))
		for k := range children {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			walk(children[k], depth+1)
		}
	}
	walk(node, 0)
	if out == nil {
		out = []string{}
	}
	return out
}

func accountOf(r *http.Request) string {
	id, _ := r.Context().Value(keyAccount).(string)
	return id
}

// prepare validates a document and returns it as stored with its id set.
func prepare(data json.RawMessage, id string) (*callflow.Flow, []byte, error) {
	flow, err := callflow.Prepare(data)
	if err != nil {
		return nil, nil, err
	}
	flow.ID = id
	flow.Doc["id"] = id
	body, err := json.Marshal(flow.Doc)
	if err != nil {
		return nil, nil, fmt.Errorf("encode callflow %s: %w", id, err)
	}
	return flow, body, nil
}

func record(accountID string, f *callflow.Flow, body []byte) store.Callflow {
	return store.Callflow{ID: f.ID, AccountID: accountID, Name: f.Name, Numbers: f.Numbers, Patterns: f.Patterns, Body: body}
}

func (a *API) createCallflow(w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	flow, body, err := prepare(req.Data, store.NewID())
	if err != nil {
		return err
	}
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	saved, err := a.store.CreateCallflow(r.Context(), record(accountOf(r), flow, body))
	if err != nil {
		return err
	}
	a.routeFlow(saved)
	return a.success(w, r, http.StatusCreated, json.RawMessage(saved.Body), saved.Revision, nil)
}

func (a *API) getCallflow(w http.ResponseWriter, r *http.Request) error {
	c, err := a.store.GetCallflow(r.Context(), accountOf(r), r.PathValue("callflow_id"))
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, json.RawMessage(c.Body), c.Revision, nil)
}

// updateCallflow replaces a document (Kazoo's POST). With a revision (the
// If-Match header or the envelope's "revision") a stale write gets 409.
func (a *API) updateCallflow(w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	flow, body, err := prepare(req.Data, r.PathValue("callflow_id"))
	if err != nil {
		return err
	}
	return a.save(w, r, flow, body, req.Revision)
}

// patchCallflow merges the body into the stored document (a null removes a
// key), then validates the whole result, as Kazoo's PATCH.
func (a *API) patchCallflow(w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("callflow_id")
	cur, err := a.store.GetCallflow(r.Context(), accountOf(r), id)
	if err != nil {
		return err
	}
	merged, err := mergeDocument(cur.Body, req.Data, "callflow", id)
	if err != nil {
		return err
	}
	flow, body, err := prepare(merged, id)
	if err != nil {
		return err
	}
	rev := req.Revision
	if rev == "" {
		rev = cur.Revision // the merge was computed on this revision
	}
	return a.save(w, r, flow, body, rev)
}

func (a *API) save(w http.ResponseWriter, r *http.Request, flow *callflow.Flow, body []byte, ifRevision string) error {
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	saved, err := a.store.UpdateCallflow(r.Context(), record(accountOf(r), flow, body), ifRevision)
	if err != nil {
		return err
	}
	a.routeFlow(saved)
	return a.success(w, r, http.StatusOK, json.RawMessage(saved.Body), saved.Revision, nil)
}

func (a *API) deleteCallflow(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("callflow_id")
	rev := deleteRevision(r)
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	cur, err := a.store.GetCallflow(r.Context(), accountOf(r), id)
	if err != nil {
		return err
	}
	if err := a.store.DeleteCallflow(r.Context(), accountOf(r), id, rev); err != nil {
		return err
	}
	a.routes.CallflowDeleted(cur.AccountID, id)
	return a.success(w, r, http.StatusOK, json.RawMessage(cur.Body), "", nil)
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// Routes is the server's routing of numbers to call flows, as the API
// needs it: the API reports every committed call-flow write, under the lock
// that orders the writes, so the next call routes by the last saved
// document. The API keeps no index of its own (only the server does) and
// never imports package routing.
type Routes interface {
	// CallflowSaved indexes a call flow just created or updated.
	CallflowSaved(c store.Callflow) error
	// CallflowDeleted forgets a call flow just deleted.
	CallflowDeleted(accountID, id string)
}

// routeFlow brings the routes in step with a saved document. The document
// was validated before it was stored, so a failure here is a bug: logged.
func (a *API) routeFlow(c store.Callflow) {
	if err := a.routes.CallflowSaved(c); err != nil {
		a.log.Error("router update failed", "account_id", c.AccountID, "callflow_id", c.ID, "err", err)
	}
}

// mergePatch applies an RFC 7386 JSON merge patch.
func mergePatch(doc, patch map[string]any) map[string]any {
	if doc == nil {
		doc = map[string]any{}
	}
	for k, v := range patch {
		if v == nil {
			delete(doc, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			dm, _ := doc[k].(map[string]any)
			doc[k] = mergePatch(dm, pm)
			continue
		}
		doc[k] = v
	}
	return doc
}
