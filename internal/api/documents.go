package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/store"
)

// One document resource for every registered kind (PocketBase's one CRUD
// over every collection): GET/PUT /v2/accounts/{ACCOUNT_ID}/{kind},
// GET/POST/PATCH/DELETE …/{kind}/{ID} and GET …/{kind}/{ID}/references,
// in Kazoo's envelope. What differs between kinds is in their
// registration (package document); nothing here names a kind.

var errNoDocuments = &Error{Status: http.StatusServiceUnavailable, Message: "documents unavailable"}

// documents is the store's document part, when it has one.
func (a *API) documents() (store.Documents, error) {
	if d, ok := a.store.(store.Documents); ok {
		return d, nil
	}
	return nil, errNoDocuments
}

// kindHandlers binds the handlers to a kind.
type kindHandlers struct{ k *document.Kind }

// kindRoutes are the routes of every registered kind, sorted by kind.
func kindRoutes() []route {
	var out []route
	for _, k := range document.Kinds() {
		h := kindHandlers{k}
		base := "/v2/accounts/{account_id}/" + k.Name
		one := base + "/{" + k.Param + "}"
		out = append(out,
			route{"GET", base, true, h.list},
			route{"PUT", base, true, h.create},
			route{"GET", one, true, h.get},
			route{"POST", one, true, h.update},
			route{"PATCH", one, true, h.patch},
			route{"DELETE", one, true, h.remove},
			route{"GET", one + "/references", true, h.references},
		)
	}
	return out
}

// context is what preparing a document of the request's account needs.
func (a *API) docContext(r *http.Request, previous []byte) (*document.Context, error) {
	c := &document.Context{AccountID: accountOf(r), Reserved: a.cfg.Reserved}
	if previous != nil {
		prev, err := document.Decode(previous)
		if err != nil {
			return nil, err
		}
		c.Previous = prev
	}
	return c, nil
}

// list is Kazoo's listing: one summary row per document, paginated with
// page_size, start_key and next_start_key (paginate=false: all), filtered
// by filter_<field>=<value>.
func (h kindHandlers) list(a *API, w http.ResponseWriter, r *http.Request) error {
	docs, err := a.documents()
	if err != nil {
		return err
	}
	opts, startKey, err := listOptions(r)
	if err != nil {
		return err
	}
	q := store.DocQuery{Limit: opts.Limit, After: opts.After}
	if h.k.ListAll && !r.URL.Query().Has("page_size") {
		q.Limit = 0
	}
	for key, vs := range r.URL.Query() {
		field, ok := strings.CutPrefix(key, "filter_")
		if !ok || len(vs) == 0 {
			continue
		}
		if field == "" || strings.ContainsAny(field, `"\`) {
			return fieldError(http.StatusBadRequest, "validation failed", key, "format", "a filter names a field: filter_<field>=<value>")
		}
		if q.Filters == nil {
			q.Filters = map[string]string{}
		}
		q.Filters[field] = vs[0]
	}
	page, more, err := docs.ListDocs(r.Context(), h.k.Name, accountOf(r), q)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(page))
	for _, d := range page {
		items = append(items, h.k.Row(d))
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

func (h kindHandlers) create(a *API, w http.ResponseWriter, r *http.Request) error {
	docs, err := a.documents()
	if err != nil {
		return err
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	c, err := a.docContext(r, nil)
	if err != nil {
		return err
	}
	dw, err := h.k.Prepare(c, req.Data, store.NewID())
	if err != nil {
		return err
	}
	if err := a.beforeWrite(r, h.k, &dw); err != nil {
		return err
	}
	saved, err := docs.CreateDoc(r.Context(), dw)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusCreated, h.k.Answer(saved.Body), saved.Revision, nil)
}

func (h kindHandlers) get(a *API, w http.ResponseWriter, r *http.Request) error {
	docs, err := a.documents()
	if err != nil {
		return err
	}
	d, err := docs.GetDoc(r.Context(), h.k.Name, accountOf(r), r.PathValue(h.k.Param))
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, h.k.Answer(d.Body), d.Revision, nil)
}

// update replaces a document (Kazoo's POST). With a revision (the
// If-Match header or the envelope's "revision") a stale write gets 409.
func (h kindHandlers) update(a *API, w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	return h.save(a, w, r, req.Data, req.Revision, false)
}

// patch merges the body into the stored document (a null removes a key),
// then checks the whole result, as Kazoo's PATCH.
func (h kindHandlers) patch(a *API, w http.ResponseWriter, r *http.Request) error {
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	return h.save(a, w, r, req.Data, req.Revision, true)
}

func (h kindHandlers) save(a *API, w http.ResponseWriter, r *http.Request, data json.RawMessage, rev string, merge bool) error {
	docs, err := a.documents()
	if err != nil {
		return err
	}
	id := r.PathValue(h.k.Param)
	cur, err := docs.GetDoc(r.Context(), h.k.Name, accountOf(r), id)
	if err != nil {
		return err
	}
	body := []byte(data)
	if merge {
		if body, err = mergeDocument(cur.Body, data, h.k.Label, id); err != nil {
			return err
		}
		if rev == "" {
			rev = cur.Revision // the merge was computed on this revision
		}
	}
	c, err := a.docContext(r, cur.Body)
	if err != nil {
		return err
	}
	dw, err := h.k.Prepare(c, body, id)
	if err != nil {
		return err
	}
	if err := a.beforeWrite(r, h.k, &dw); err != nil {
		return err
	}
	saved, err := docs.UpdateDoc(r.Context(), dw, rev)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, h.k.Answer(saved.Body), saved.Revision, nil)
}

// remove deletes a document; one that others point to is refused with 409
// listing them, unless ?force=true.
func (h kindHandlers) remove(a *API, w http.ResponseWriter, r *http.Request) error {
	docs, err := a.documents()
	if err != nil {
		return err
	}
	force := r.URL.Query().Get("force") == "true"
	d, err := docs.DeleteDoc(r.Context(), h.k.Name, accountOf(r), r.PathValue(h.k.Param), deleteRevision(r), force)
	if err != nil {
		return err
	}
	a.afterDelete(r, h.k, d)
	return a.success(w, r, http.StatusOK, h.k.Answer(d.Body), "", nil)
}

// references answers which documents point to this one, and where.
func (h kindHandlers) references(a *API, w http.ResponseWriter, r *http.Request) error {
	docs, err := a.documents()
	if err != nil {
		return err
	}
	id := r.PathValue(h.k.Param)
	if _, err := docs.GetDoc(r.Context(), h.k.Name, accountOf(r), id); err != nil {
		return err
	}
	refs, err := docs.Referrers(r.Context(), accountOf(r), id)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, refs, "", nil)
}
