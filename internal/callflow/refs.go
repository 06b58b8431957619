package callflow

import (
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/internal/schema"
)

// RefRule says where a module's data names another document of the
// account, so that a flow pointing to a missing document is refused when
// saved instead of failing mid-call.
type RefRule struct {
	// Field is the dotted path in the node's data; "*" stands for every
	// element of a list ("rules.*", "endpoints.*.id").
	Field string
	// Kind is the document kind the id names ("menus"); alternatives are
	// separated by commas.
	Kind string
	// KindField, when set, is a sibling of the id choosing its kind by
	// Kazoo's singular name ("endpoint_type": "user" → users); Kind is then
	// the default.
	KindField string
	// MaybeURL leaves out values that are URLs or paths rather than ids
	// (play's id is either).
	MaybeURL bool
}

// ModuleRefs maps each module to where its data names documents. It is
// kept here, by module name, for the modules that exist and those not yet
// registered, until each module's registration can declare its own.
var ModuleRefs = map[string][]RefRule{
	"menu":           {{Field: "id", Kind: "menus"}},
	"play":           {{Field: "id", Kind: "media", MaybeURL: true}},
	"temporal_route": {{Field: "rules.*", Kind: "temporal_rules,temporal_rules_sets"}, {Field: "rule_set", Kind: "temporal_rules_sets"}},
	"callflow":       {{Field: "id", Kind: "callflows"}},
	"user":           {{Field: "id", Kind: "users"}},
	"device":         {{Field: "id", Kind: "devices"}},
	"ring_group":     {{Field: "endpoints.*.id", Kind: "devices", KindField: "endpoint_type"}},
	"group":          {{Field: "id", Kind: "groups"}},
	"voicemail":      {{Field: "id", Kind: "vmboxes"}},
	"conference":     {{Field: "id", Kind: "conferences"}},
	"do_not_disturb": {{Field: "id", Kind: "users,devices"}},
}

// Ref is one id a flow's node names: where, which kind, which id.
type Ref struct {
	Path string // "flow.children._.data.id"
	Kind string
	ID   string
}

// Refs lists the documents a call-flow document's nodes name, in a stable
// order (depth first, children by key).
func Refs(doc map[string]any) []Ref {
	var out []Ref
	var walk func(n map[string]any, path string, depth int)
	walk = func(n map[string]any, path string, depth int) {
		if depth > 256 {
			return
		}
		mod, _ := n["module"].(string)
		if data, ok := n["data"].(map[string]any); ok {
			for _, rule := range ModuleRefs[mod] {
				out = append(out, rule.find(data, path+".data")...)
			}
		}
		children, _ := n["children"].(map[string]any)
		keys := make([]string, 0, len(children))
		for k := range children {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if c, ok := children[k].(map[string]any); ok {
				walk(c, schema.JoinPath(path+".children", k), depth+1)
			}
		}
	}
	if root, ok := doc["flow"].(map[string]any); ok {
		walk(root, "flow", 0)
	}
	return out
}

// find applies the rule to a node's data.
func (r RefRule) find(data map[string]any, at string) []Ref {
	var out []Ref
	var step func(v any, parent map[string]any, parts []string, path string)
	step = func(v any, parent map[string]any, parts []string, path string) {
		if len(parts) == 0 {
			id, ok := v.(string)
			if !ok || id == "" || (r.MaybeURL && (strings.Contains(id, "/") || strings.Contains(id, ":"))) {
				return
			}
			kind := r.Kind
			if r.KindField != "" {
				if t, ok := parent[r.KindField].(string); ok && t != "" {
					kind = t + "s"
				}
			}
			out = append(out, Ref{Path: path, Kind: kind, ID: id})
			return
		}
		switch t := v.(type) {
		case map[string]any:
			if parts[0] == "*" {
				return
			}
			step(t[parts[0]], t, parts[1:], path+"."+schema.EscapeKey(parts[0]))
		case []any:
			if parts[0] != "*" {
				return
			}
			for i, e := range t {
				step(e, parent, parts[1:], path+"."+strconv.Itoa(i))
			}
		}
	}
	step(data, nil, strings.Split(r.Field, "."), at)
	return out
}
