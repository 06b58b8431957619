package schema

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// FieldError is one failed rule at one path of a document, in the shape
// Kazoo reports: data: {path: {rule: {message, target, value}}}.
type FieldError struct {
	Path    string // dotted path, "flow.data.voice_url"; literal dots escaped as %2E
	Rule    string // "required", "type", "pattern", "enum", "unique" …
	Message string
	Target  any // what the rule wanted, when there is one
	Value   any // what was found, when there is one
	Cause   any // Kazoo's "cause" (the conflicting number), when there is one
}

// ValidationError lists every failed rule of a document; the API answers it
// with 400 "validation failed".
type ValidationError []FieldError

// Error lists the failures sorted, so a log line or a test reads the same
// whatever order the checks ran in.
func (v ValidationError) Error() string {
	parts := make([]string, 0, len(v))
	for _, f := range v {
		parts = append(parts, fmt.Sprintf("%s: %s: %s", f.Path, f.Rule, f.Message))
	}
	sort.Strings(parts)
	return "validation failed: " + strings.Join(parts, "; ")
}

// Data renders the errors as Kazoo's error "data" object.
func (v ValidationError) Data() map[string]map[string]map[string]any {
	out := map[string]map[string]map[string]any{}
	for _, f := range v {
		rules := out[f.Path]
		if rules == nil {
			rules = map[string]map[string]any{}
			out[f.Path] = rules
		}
		e := map[string]any{"message": f.Message}
		if f.Target != nil {
			e["target"] = f.Target
		}
		if f.Value != nil {
			e["value"] = f.Value
		}
		if f.Cause != nil {
			e["cause"] = f.Cause
		}
		rules[f.Rule] = e
	}
	return out
}

// Error makes a FieldError usable as an error, so an Action's Validator can
// return one (its Path relative to the node's "data").
func (f FieldError) Error() string {
	return fmt.Sprintf("%s: %s: %s", f.Path, f.Rule, f.Message)
}

// Sorted orders the errors by path then rule and drops repeats (one rule
// failed twice at one path, as two schema branches may report it), so a
// client sees a stable list.
func (v ValidationError) Sorted() ValidationError {
	slices.SortStableFunc(v, func(a, b FieldError) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return slices.CompactFunc(v, func(a, b FieldError) bool { return a.Path == b.Path && a.Rule == b.Rule })
}

// Failed reports whether a rule failed at path or below it, so a checker
// skips the checks that build on a field already reported.
func (v ValidationError) Failed(path string) bool {
	for _, f := range v {
		if f.Path == path || strings.HasPrefix(f.Path, path+".") {
			return true
		}
	}
	return false
}
