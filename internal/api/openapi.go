package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/internal/document"
)

// openAPISource is the hand-written part of the document: every route
// that is not a document kind's, and the kinds whose entries were written
// before the kinds were registered (callflows, trunks, temporal rules).
//
//go:embed openapi.json
var openAPISource []byte

// openAPIDoc describes every route in the routes table: the hand-written
// source plus the entries each registered kind gets from its registration
// (kindPaths); a test holds the two together.
var openAPIDoc = buildOpenAPI(openAPISource)

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}

// buildOpenAPI adds to the source every kind operation it lacks. It
// panics on a source that is not JSON: the file is embedded, so that is a
// build mistake.
func buildOpenAPI(src []byte) []byte {
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		panic(fmt.Sprintf("openapi.json: %v", err))
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, k := range document.Kinds() {
		for path, ops := range kindPaths(k) {
			have, _ := paths[path].(map[string]any)
			if have == nil {
				have = map[string]any{}
				paths[path] = have
			}
			for method, op := range ops {
				if _, ok := have[method]; !ok {
					have[method] = op
				}
			}
		}
	}
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		panic(fmt.Sprintf("openapi.json: %v", err))
	}
	return append(out, '\n')
}

// kindPaths are the OpenAPI operations of a kind's routes (kindRoutes).
func kindPaths(k *document.Kind) map[string]map[string]any {
	base := "/v2/accounts/{account_id}/" + k.Name
	one := base + "/{" + k.Param + "}"
	id := camel(k.Name)
	param := func(name, in, desc string) map[string]any {
		return map[string]any{"name": name, "in": in, "required": in == "path", "schema": map[string]any{"type": "string"}, "description": desc}
	}
	acct := param("account_id", "path", "the account")
	docID := param(k.Param, "path", "the "+k.Label+"'s id")
	body := map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
		"type": "object", "required": []string{"data"},
		"properties": map[string]any{"data": map[string]any{"type": "object", "description": "the " + k.Label + " document"},
			"revision": map[string]any{"type": "string", "description": "the revision this change is based on (as If-Match)"}},
	}}}}
	ok := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"$ref": "#/components/schemas/Success"}}}}
	}
	fail := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"$ref": "#/components/schemas/Error"}}}}
	}
	op := func(summary, opID string, params []any, responses map[string]any) map[string]any {
		responses["401"] = fail("No token, or an unknown or expired one.")
		responses["403"] = fail("The token belongs to another account.")
		return map[string]any{"summary": summary, "operationId": opID, "security": []any{map[string]any{"authToken": []any{}}},
			"parameters": params, "responses": responses}
	}
	list := []any{acct, param("page_size", "query", "rows per page, 1 to 1000 (50)"), param("start_key", "query", "next_start_key of the previous page"),
		param("paginate", "query", "false: every row"), param("filter_{field}", "query", "only documents whose field (dotted path) equals the value")}
	create := op("Create a "+k.Label, "create"+id, []any{acct}, map[string]any{"201": ok("the " + k.Label + " as stored"),
		"400": fail("The document is invalid, a unique value is taken or a reference names no document.")})
	create["requestBody"] = body
	update := op("Replace a "+k.Label, "update"+id, []any{acct, docID}, map[string]any{"200": ok("the " + k.Label + " as stored"),
		"400": fail("The document is invalid."), "404": fail("No such " + k.Label + "."), "409": fail("A stale revision.")})
	update["requestBody"] = body
	patch := op("Merge into a "+k.Label, "patch"+id, []any{acct, docID}, map[string]any{"200": ok("the " + k.Label + " as stored"),
		"400": fail("The result is invalid."), "404": fail("No such " + k.Label + "."), "409": fail("A stale revision.")})
	patch["requestBody"] = body
	return map[string]map[string]any{
		base: {
			"get": op("List the account's "+k.Name, "list"+id, list, map[string]any{"200": ok("one summary row per document")}),
			"put": create,
		},
		one: {
			"get":   op("Read a "+k.Label, "get"+id, []any{acct, docID}, map[string]any{"200": ok("the " + k.Label + "; revision in the envelope and the ETag header"), "404": fail("No such " + k.Label + ".")}),
			"post":  update,
			"patch": patch,
			"delete": op("Delete a "+k.Label, "delete"+id, []any{acct, docID, param("force", "query", "true: delete even when other documents point to it")},
				map[string]any{"200": ok("the deleted " + k.Label), "404": fail("No such " + k.Label + "."),
					"409": fail("Other documents point to it (listed in data.referrers; a media is also held by the account's music_on_hold, listed as kind accounts), or a stale revision.")}),
		},
		one + "/references": {
			"get": op("Which documents point to this "+k.Label, "references"+id, []any{acct, docID},
				map[string]any{"200": ok("the referring documents: kind, id, name, path (a media played as the account's music on hold lists the account: kind accounts, path music_on_hold.media_id)"), "404": fail("No such " + k.Label + ".")}),
		},
	}
}

// camel turns a kind name into an operationId suffix: "temporal_rules" →
// "TemporalRules".
func camel(name string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(name, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
