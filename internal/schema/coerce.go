package schema

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Coerce applies Kazoo's leniency to obj: where the schema types a value
// as a number, an integer or a boolean and the document gives it as a
// string ("486", "true"), the value is replaced by what the string says,
// so the stored document and every reader see the typed value. It follows
// "properties", "items" and "additionalProperties", like ApplyDefaults,
// and returns the paths it changed (for a warning).
func (s *Schema) Coerce(obj any) []string {
	var changed []string
	coerce(s.raw, obj, "", &changed)
	return changed
}

// coerceValue is Coerce for a value held by its parent: it returns the
// coerced value, so a top-level string can be replaced too.
func coerceValue(schema map[string]any, v any, path string, changed *[]string) any {
	str, ok := v.(string)
	if !ok {
		coerce(schema, v, path, changed)
		return v
	}
	types := typesOf(schema)
	if types["string"] {
		return v
	}
	t := strings.TrimSpace(str)
	switch {
	case types["boolean"] && (t == "true" || t == "false"):
		*changed = append(*changed, path)
		return t == "true"
	case types["integer"]:
		if _, err := strconv.ParseInt(t, 10, 64); err == nil {
			*changed = append(*changed, path)
			return json.Number(t)
		}
	case types["number"]:
		if f, err := strconv.ParseFloat(t, 64); err == nil && !strings.ContainsAny(t, "xXpP_") && f == f {
			*changed = append(*changed, path)
			return json.Number(t)
		}
	}
	return v
}

func coerce(schema map[string]any, v any, path string, changed *[]string) {
	switch t := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		extra, _ := schema["additionalProperties"].(map[string]any)
		for k, e := range t {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if ps = extra; ps == nil {
					continue
				}
			}
			t[k] = coerceValue(ps, e, JoinPath(path, k), changed)
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		if items == nil {
			return
		}
		for i, e := range t {
			t[i] = coerceValue(items, e, JoinPath(path, strconv.Itoa(i)), changed)
		}
	}
}

// typesOf reads a schema's "type", a name or a list of names.
func typesOf(schema map[string]any) map[string]bool {
	out := map[string]bool{}
	switch t := schema["type"].(type) {
	case string:
		out[t] = true
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				out[s] = true
			}
		}
	}
	return out
}
