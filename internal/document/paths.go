package document

import "strings"

// lookup reads a dotted path of a decoded document.
func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// str reads a dotted path as a string ("" when absent or not a string).
func str(doc map[string]any, path string) string {
	v, _ := lookup(doc, path)
	s, _ := v.(string)
	return s
}

// removePath deletes a dotted path of a decoded document.
func removePath(doc map[string]any, path string) {
	parent, last, ok := strings.Cut(path, ".")
	if !ok {
		delete(doc, path)
		return
	}
	if m, ok := doc[parent].(map[string]any); ok {
		removePath(m, last)
	}
}

// setPath writes a dotted path, creating objects on the way.
func setPath(doc map[string]any, path string, v any) {
	parent, last, ok := strings.Cut(path, ".")
	if !ok {
		doc[path] = v
		return
	}
	m, ok := doc[parent].(map[string]any)
	if !ok {
		m = map[string]any{}
		doc[parent] = m
	}
	setPath(m, last, v)
}
