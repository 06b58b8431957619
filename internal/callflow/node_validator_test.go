package callflow_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/schema"
)

// needsTwo is a test module that wants exactly two children, and says so
// at the node's paths.
type needsTwo struct{}

func (needsTwo) Exec(context.Context, *engine.Exec) (string, error) { return "_", nil }

func (needsTwo) ValidateNode(n *engine.Node) error {
	switch {
	case len(n.Children) < 2:
		return schema.FieldError{Path: "children", Rule: "minProperties", Message: fmt.Sprintf("%d children", len(n.Children))}
	case len(n.Children) > 2:
		return schema.ValidationError{
			{Path: "children.c", Rule: "extra", Message: "one too many"},
			{Path: "", Rule: "", Message: "the node itself"},
		}
	}
	return nil
}

func init() {
	engine.Register(engine.Spec{
		Name: "test_needs_two", Group: "Test", Label: "Needs two",
		Schema: []byte(`{"type":"object"}`),
		New:    func() engine.Action { return new(needsTwo) },
	})
}

func TestNodeValidator(t *testing.T) {
	leaf := `{"module":"test_terminal","data":{}}`
	for _, tc := range []struct {
		name, flow string
		want       []string // path rule
	}{
		{"no children", `{"module":"test_needs_two","data":{}}`, []string{"flow.children minProperties"}},
		{"one child", `{"module":"test_needs_two","data":{},"children":{"a":` + leaf + `}}`, []string{"flow.children minProperties"}},
		{"two children", `{"module":"test_needs_two","data":{},"children":{"a":` + leaf + `,"b":` + leaf + `}}`, nil},
		{"three, nested", `{"module":"test_terminal","data":{},"children":{"x":{"module":"test_needs_two","data":{},"children":{"a":` + leaf + `,"b":` + leaf + `,"c":` + leaf + `}}}}`,
			[]string{"flow.children.x error", "flow.children.x.children.c extra", "flow.children terminal"}},
		{"data broken: not called", `{"module":"test_needs_two","data":[]}`, []string{"flow.data type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":` + tc.flow + `}`))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve schema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v", err)
			}
			got := map[string]bool{}
			for _, f := range ve {
				got[f.Path+" "+f.Rule] = true
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("no %q in %v", w, ve)
				}
			}
			if len(ve) != len(tc.want) {
				t.Errorf("errors %v, want %v", ve, tc.want)
			}
		})
	}
}
