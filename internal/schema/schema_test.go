package schema_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/schema"
)

const testSchema = `{
	"type": "object",
	"required": ["name"],
	"additionalProperties": false,
	"properties": {
		"name": {"type": "string", "minLength": 1},
		"ttl": {"type": "integer", "minimum": 5, "default": 30},
		"opts": {"type": "object", "default": {}, "properties": {"n": {"type": "integer", "default": 3}}},
		"keys": {"type": "object", "additionalProperties": {"type": "string"}}
	},
	"$defs": {"leaf": {"type": "object", "properties": {"x": {"type": "string", "default": "y"}}}}
}`

// decode reads a document as the checkers do: numbers as json.Number.
func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidate(t *testing.T) {
	s, err := schema.Compile("test:doc", []byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, doc, prefix string
		want              schema.ValidationError
	}{
		{name: "valid", doc: `{"name":"a","ttl":5}`},
		{name: "required", doc: `{}`, prefix: "data",
			want: schema.ValidationError{{Path: "data.name", Rule: "required", Message: "Field is required but missing"}}},
		{name: "type", doc: `{"name":7}`,
			want: schema.ValidationError{{Path: "name", Rule: "type", Message: "Value did not match type: string", Target: "string", Value: json.Number("7")}}},
		{name: "minimum", doc: `{"name":"a","ttl":1}`,
			want: schema.ValidationError{{Path: "ttl", Rule: "minimum", Message: "Value must be at least 5", Target: json.Number("5"), Value: json.Number("1")}}},
		{name: "additional property", doc: `{"name":"a","extra":1}`, prefix: "flow.data",
			want: schema.ValidationError{{Path: "flow.data.extra", Rule: "additionalProperties", Message: "Strict checking of data is enabled; only include schema-defined properties"}}},
		{name: "dotted key escaped", doc: `{"name":"a","keys":{"1.5":2}}`,
			want: schema.ValidationError{{Path: "keys.1%2E5", Rule: "type", Message: "Value did not match type: string", Target: "string", Value: json.Number("2")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Validate(decode(t, tt.doc), tt.prefix).Sorted()
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate(%s) = %#v\nwant %#v", tt.doc, got, tt.want)
			}
		})
	}
}

func TestApplyDefaults(t *testing.T) {
	s, err := schema.Compile("test:doc", []byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	a := decode(t, `{"name":"a"}`).(map[string]any)
	b := decode(t, `{"name":"b","ttl":60,"opts":{"n":1}}`).(map[string]any)
	s.ApplyDefaults(a)
	s.ApplyDefaults(b)
	if got, _ := json.Marshal(a); string(got) != `{"name":"a","opts":{"n":3},"ttl":30}` {
		t.Errorf("defaults: %s", got)
	}
	if got, _ := json.Marshal(b); string(got) != `{"name":"b","opts":{"n":1},"ttl":60}` {
		t.Errorf("given values overwritten: %s", got)
	}
	// A default is copied, never shared between two documents.
	c := decode(t, `{"name":"c"}`).(map[string]any)
	s.ApplyDefaults(c)
	c["opts"].(map[string]any)["n"] = 9
	if a["opts"].(map[string]any)["n"] != json.Number("3") {
		t.Errorf("a default was shared: %v", a["opts"])
	}

	leaf, err := s.Def("leaf")
	if err != nil {
		t.Fatal(err)
	}
	d := map[string]any{}
	leaf.ApplyDefaults(d)
	if d["x"] != "y" {
		t.Errorf("definition defaults: %v", d)
	}
	if errs := leaf.Validate(map[string]any{"x": 1}, "flow"); len(errs) != 1 || errs[0].Path != "flow.x" {
		t.Errorf("definition rules: %v", errs)
	}
}

func TestCompileErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":      `{`,
		"not an object": `[]`,
		"bad keyword":   `{"type": 5}`,
		"remote $ref":   `{"$ref": "https://example.com/schema.json"}`,
		"missing $defs": `{"$ref": "#/$defs/none"}`,
	} {
		if _, err := schema.Compile("test:"+name, []byte(doc)); err == nil || !strings.HasPrefix(err.Error(), "schema") {
			t.Errorf("%s: err = %v, want a schema error", name, err)
		}
	}
	s, err := schema.Compile("test:doc", []byte(`{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Def("none"); err == nil {
		t.Error("Def of a missing definition: no error")
	}
}

func TestValidationError(t *testing.T) {
	v := schema.ValidationError{
		{Path: "numbers.0", Rule: "unique", Message: "Number 1 exists", Cause: "1"},
		{Path: "flow.data.url", Rule: "required", Message: "Field is required but missing"},
		{Path: "flow.data.url", Rule: "required", Message: "Field is required but missing"},
		{Path: "ttl", Rule: "minimum", Message: "Value must be at least 5", Target: 5, Value: 1},
	}
	if got, want := v.Error(), "validation failed: flow.data.url: required: Field is required but missing; flow.data.url: required: Field is required but missing; numbers.0: unique: Number 1 exists; ttl: minimum: Value must be at least 5"; got != want {
		t.Errorf("Error() = %q\nwant %q", got, want)
	}
	sorted := append(schema.ValidationError(nil), v...).Sorted()
	if len(sorted) != 3 || sorted[0].Path != "flow.data.url" || sorted[2].Path != "ttl" {
		t.Errorf("Sorted() = %v", sorted)
	}
	got, err := json.Marshal(v.Data())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"flow.data.url":{"required":{"message":"Field is required but missing"}},"numbers.0":{"unique":{"cause":"1","message":"Number 1 exists"}},"ttl":{"minimum":{"message":"Value must be at least 5","target":5,"value":1}}}`
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("Data() = %s\nwant %s", got, want)
	}
	for path, failed := range map[string]bool{"flow": true, "flow.data": true, "flow.data.url": true, "flow.dat": false, "numbers": true, "ttl.x": false, "name": false} {
		if v.Failed(path) != failed {
			t.Errorf("Failed(%q) = %v", path, !failed)
		}
	}
	if got := (schema.FieldError{Path: "regex", Rule: "pattern", Message: "bad"}).Error(); got != "regex: pattern: bad" {
		t.Errorf("FieldError.Error() = %q", got)
	}
}

func TestJoinPath(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		keys   []string
		want   string
	}{
		{"", nil, ""},
		{"", []string{"a"}, "a"},
		{"flow", []string{"children", "1.5"}, "flow.children.1%2E5"},
		{"flow.data", nil, "flow.data"},
	} {
		if got := schema.JoinPath(tt.prefix, tt.keys...); got != tt.want {
			t.Errorf("JoinPath(%q, %q) = %q, want %q", tt.prefix, tt.keys, got, tt.want)
		}
	}
}
