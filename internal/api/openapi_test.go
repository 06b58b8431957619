package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIListsEveryRoute holds the hand-written OpenAPI document and the
// route table together, both ways.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	var fromRoutes, fromDoc []string
	for _, r := range routes {
		fromRoutes = append(fromRoutes, strings.ToLower(r.method)+" "+r.path)
		if r.auth {
			var op struct {
				Security []map[string]any `json:"security"`
			}
			_ = json.Unmarshal(doc.Paths[r.path][strings.ToLower(r.method)], &op)
			if len(op.Security) == 0 {
				t.Errorf("%s %s needs a token but the document declares no security", r.method, r.path)
			}
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			fromDoc = append(fromDoc, method+" "+path)
		}
	}
	slices.Sort(fromRoutes)
	slices.Sort(fromDoc)
	for _, r := range fromRoutes {
		if !slices.Contains(fromDoc, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range fromDoc {
		if !slices.Contains(fromRoutes, d) {
			t.Errorf("openapi.json lists %s, which is not served", d)
		}
	}
}
