package schema

import "encoding/json"

// applyDefaults writes the "default" of every property of schema that obj
// lacks, as Kazoo's validator does on save (jesse's use_defaults and
// apply_defaults_to_empty_objects). It goes on into nested objects that are
// present, or that a default has just created, so a default of {} gets its
// own properties' defaults. Only "properties" is followed, never "$ref",
// "allOf" and the like; our module schemas keep their defaults where this
// finds them.
func applyDefaults(schema map[string]any, obj map[string]any) {
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		ps, ok := p.(map[string]any)
		if !ok {
			continue
		}
		v, present := obj[name]
		if !present {
			def, has := ps["default"]
			if !has {
				continue
			}
			v = cloneJSON(def)
			obj[name] = v
		}
		if sub, ok := v.(map[string]any); ok {
			applyDefaults(ps, sub)
		}
	}
}

// cloneJSON deep-copies a decoded JSON value, so a default taken from a
// cached schema is never shared by two documents.
func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = cloneJSON(e)
		}
		return s
	case float64:
		// Schemas are decoded with UseNumber; keep documents uniform anyway.
		b, _ := json.Marshal(t)
		return json.Number(b)
	default:
		return v
	}
}
