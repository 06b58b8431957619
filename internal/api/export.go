package api

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
)

// Export and import, what Twilio Studio users ask for ("version control my
// flows across accounts"): GET …/export answers every document of the
// account as a bundle (JSON, or with ?format=zip the file tree
// `switchboard export` writes), POST …/import applies one by id.

func (a *API) export(w http.ResponseWriter, r *http.Request) error {
	docs, err := a.documents()
	if err != nil {
		return err
	}
	var all []store.Doc
	for _, k := range document.Kinds() {
		page, _, err := docs.ListDocs(r.Context(), k.Name, accountOf(r), store.DocQuery{})
		if err != nil {
			return err
		}
		all = append(all, page...)
	}
	b := document.NewBundle(all)
	if err := a.exportAudio(r, &b); err != nil {
		return err
	}
	if r.URL.Query().Get("format") != "zip" {
		return a.success(w, r, http.StatusOK, b, "", nil)
	}
	files, err := b.Files()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate})
		if err != nil {
			return fmt.Errorf("export zip: %w", err)
		}
		if _, err := f.Write(files[n]); err != nil {
			return fmt.Errorf("export zip: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("export zip: %w", err)
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="export-`+accountOf(r)+`.zip"`)
	_, err = w.Write(buf.Bytes())
	return err
}

// PlanStep is what an import does to one document.
type PlanStep struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Action string `json:"action"` // "create", "update" or "unchanged"
}

// importDocs applies a bundle ({"data": {"documents": […]}}) to the
// account: each document created or updated by id, unchanged ones left
// alone, references checked across the whole set before anything is
// written, all in one transaction. ?dry_run=true answers the plan only.
func (a *API) importDocs(w http.ResponseWriter, r *http.Request) error {
	docs, err := a.documents()
	if err != nil {
		return err
	}
	req, err := a.readRequestUpTo(w, r, a.cfg.MaxImportBytes)
	if err != nil {
		return err
	}
	var b document.Bundle
	if err := json.Unmarshal(req.Data, &b); err != nil {
		return fieldError(http.StatusBadRequest, "invalid JSON", "documents", "type", "documents is a list of {kind, id, document}")
	}
	plan, writes, err := a.planImport(r, docs, b)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("dry_run") != "true" && len(writes) > 0 {
		if _, err := docs.ApplyDocs(r.Context(), writes); err != nil {
			return err
		}
	}
	if r.URL.Query().Get("dry_run") != "true" {
		if err := a.importAudio(r, b); err != nil {
			return err
		}
	}
	return a.success(w, r, http.StatusOK, plan, "", nil)
}

// planImport prepares every entry as its kind would on a write and checks
// every reference against the set and the account.
func (a *API) planImport(r *http.Request, docs store.Documents, b document.Bundle) ([]PlanStep, []store.DocWrite, error) {
	var (
		errs   schema.ValidationError
		plan   = make([]PlanStep, 0, len(b.Documents))
		writes []store.DocWrite
		inSet  = map[string]string{} // id → kind
		at     = map[string]string{} // id → "documents.N"
	)
	for i, e := range b.Documents {
		where := "documents." + strconv.Itoa(i)
		k, ok := document.Lookup(e.Kind)
		if !ok {
			errs = append(errs, schema.FieldError{Path: where + ".kind", Rule: "enum", Message: "no such document kind", Value: e.Kind})
			continue
		}
		if e.ID == "" || len(e.ID) > 128 {
			errs = append(errs, schema.FieldError{Path: where + ".id", Rule: "required", Message: "a document needs an id of 1 to 128 characters"})
			continue
		}
		if _, dup := inSet[e.ID]; dup {
			errs = append(errs, schema.FieldError{Path: where + ".id", Rule: "unique", Message: "this id is in the set twice", Value: e.ID})
			continue
		}
		if err := a.checkAudio(r, e); err != nil {
			errs = append(errs, schema.FieldError{Path: where + ".audio", Rule: "format", Message: err.Error()})
			continue
		}
		inSet[e.ID], at[e.ID] = e.Kind, where
		step := PlanStep{Kind: e.Kind, ID: e.ID, Action: "create"}
		var prevBody []byte
		cur, err := docs.GetDoc(r.Context(), "", accountOf(r), e.ID)
		switch {
		case err == nil && cur.Kind != e.Kind:
			errs = append(errs, schema.FieldError{Path: where + ".id", Rule: "unique", Message: "this id is a " + cur.Kind + " document of the account", Value: e.ID})
			continue
		case err == nil:
			step.Action, prevBody = "update", cur.Body
		case !errors.Is(err, store.ErrNotFound):
			return nil, nil, err
		}
		c, err := a.docContext(r, prevBody)
		if err != nil {
			return nil, nil, err
		}
		dw, err := k.Prepare(c, e.Document, e.ID)
		if err != nil {
			v, ok := errors.AsType[schema.ValidationError](err)
			if !ok {
				return nil, nil, err
			}
			for _, f := range v {
				f.Path = where + ".document." + f.Path
				errs = append(errs, f)
			}
			continue
		}
		step.Name = dw.Name
		if step.Action == "update" && bytes.Equal(dw.Body, cur.Body) {
			step.Action = "unchanged"
		} else {
			writes = append(writes, dw)
		}
		plan = append(plan, step)
	}
	for _, dw := range writes {
		for _, ref := range dw.Refs {
			if kind, ok := inSet[ref.ID]; ok {
				if slices.Contains(ref.Kinds(), kind) {
					continue
				}
			} else if d, err := docs.GetDoc(r.Context(), "", accountOf(r), ref.ID); err == nil && slices.Contains(ref.Kinds(), d.Kind) {
				continue
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, nil, err
			}
			errs = append(errs, schema.FieldError{Path: at[dw.ID] + ".document." + ref.Path, Rule: "exists",
				Message: "No " + kindLabel(ref.Kind) + " has this id", Value: ref.ID})
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs.Sorted()
	}
	return plan, writes, nil
}

// kindLabel names a reference's kind (its first alternative) for a message.
func kindLabel(kinds string) string {
	for _, name := range (store.Ref{Kind: kinds}).Kinds() {
		if k, ok := document.Lookup(name); ok {
			return k.Label
		}
	}
	return "document"
}
