package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/engine"
)

// The JSON Schemas the server validates with, as Kazoo's /v2/schemas
// serves its own: one per document kind ("users", "devices" …) and one
// per call-flow module ("callflows.pivot"), so a client (the
// configurator's forms) checks a document with the server's rules before
// sending it. They hold no account data: no token is needed.

// schemaRoutes are the schema listing and one schema.
func schemaRoutes() []route {
	return []route{
		{"GET", "/v2/schemas", false, (*API).listSchemas},
		{"GET", "/v2/schemas/{name}", false, (*API).getSchema},
	}
}

// schemaSource finds a schema by its Kazoo-style name.
func schemaSource(name string) ([]byte, bool) {
	if module, ok := strings.CutPrefix(name, "callflows."); ok {
		s, found := engine.Lookup(module)
		if !found || len(s.Schema) == 0 {
			return nil, false
		}
		return s.Schema, true
	}
	if name == "accounts" {
		return accountSchemaSource, true
	}
	k, ok := document.Lookup(name)
	if !ok || len(k.Schema) == 0 {
		return nil, false
	}
	return k.Schema, true
}

// schemaNames lists every schema served, sorted.
func schemaNames() []string {
	out := []string{"accounts"}
	for _, k := range document.Kinds() {
		if len(k.Schema) > 0 {
			out = append(out, k.Name)
		}
	}
	for _, s := range engine.Specs() {
		if len(s.Schema) > 0 {
			out = append(out, "callflows."+s.Name)
		}
	}
	slices.Sort(out)
	return out
}

// listSchemas answers the names of the schemas served.
func (a *API) listSchemas(w http.ResponseWriter, r *http.Request) error {
	return a.success(w, r, http.StatusOK, schemaNames(), "", nil)
}

// getSchema answers one schema in the envelope's data.
func (a *API) getSchema(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	src, ok := schemaSource(name)
	if !ok {
		return &Error{Status: http.StatusNotFound, Message: "bad identifier", Data: map[string]any{"cause": "no schema is named " + name}}
	}
	var v any
	if err := json.Unmarshal(src, &v); err != nil {
		return fmt.Errorf("schema %s: %w", name, err)
	}
	return a.success(w, r, http.StatusOK, v, "", nil)
}
