package schema_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/internal/schema"
)

// TestCoerce: strings standing for what the schema types as a number, an
// integer or a boolean become that value; strings the schema allows, and
// strings that say no such value, stay.
func TestCoerce(t *testing.T) {
	s, err := schema.Compile("coerce.json", []byte(`{
		"type": "object",
		"properties": {
			"code": {"type": "integer"},
			"ratio": {"type": "number"},
			"answer": {"type": "boolean"},
			"either": {"type": ["string", "integer"]},
			"list": {"type": "array", "items": {"type": "integer"}},
			"nested": {"type": "object", "properties": {"on": {"type": "boolean"}}},
			"map": {"type": "object", "additionalProperties": {"type": "integer"}}
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{"code": "486", "ratio": "0.5", "answer": "true", "either": "7", "list": []any{"1", 2, "x"},
		"nested": map[string]any{"on": "false"}, "map": map[string]any{"a": "3"}, "other": "9"}
	changed := s.Coerce(doc)
	got, _ := json.Marshal(doc)
	want := `{"answer":true,"code":486,"either":"7","list":[1,2,"x"],"map":{"a":3},"nested":{"on":false},"other":"9","ratio":0.5}`
	if string(got) != want {
		t.Errorf("coerced\n%s\nwant\n%s", got, want)
	}
	slices.Sort(changed)
	if !slices.Equal(changed, []string{"answer", "code", "list.0", "map.a", "nested.on", "ratio"}) {
		t.Errorf("changed paths %v", changed)
	}
	if errs := s.Validate(doc, ""); len(errs) != 1 || errs[0].Path != "list.2" {
		t.Errorf("validation after coercion: %v", errs)
	}
}
