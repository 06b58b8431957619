package document

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/store"
)

// Call flows: Kazoo's "callflows", checked and compiled by package
// callflow (its schema and every module's); numbers and patterns are keys
// of the account, and every id a node names is a reference.
func init() {
	Register(Kind{
		Name: "callflows", Label: "callflow", Param: "callflow_id",
		Normalise:   normaliseCallflow,
		Index:       indexCallflow,
		SummaryFunc: callflowRow,
	})
}

func normaliseCallflow(_ *Context, doc map[string]any) (map[string]any, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode callflow: %w", err)
	}
	f, err := callflow.Prepare(body)
	if err != nil {
		return nil, err
	}
	return f.Doc, nil
}

func indexCallflow(_ *Context, doc map[string]any, w *store.DocWrite) error {
	idx := store.FlowIndex{Numbers: stringList(doc["numbers"]), Patterns: stringList(doc["patterns"])}
	seen := map[string]bool{}
	for i, n := range idx.Numbers {
		if !seen["n"+n] {
			w.Keys = append(w.Keys, store.Key{Name: "number", Value: n, Field: "numbers." + strconv.Itoa(i)})
		}
		seen["n"+n] = true
	}
	for i, p := range idx.Patterns {
		if !seen["p"+p] {
			w.Keys = append(w.Keys, store.Key{Name: "pattern", Value: p, Field: "patterns." + strconv.Itoa(i)})
		}
		seen["p"+p] = true
	}
	for _, r := range callflow.Refs(doc) {
		w.Refs = append(w.Refs, store.Ref{Path: r.Path, Kind: r.Kind, ID: r.ID})
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	w.Index = b
	return nil
}

// stringList reads a JSON list of strings (others left out), never nil.
func stringList(v any) []string {
	if ss, ok := v.([]string); ok {
		return ss
	}
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// callflowRow is one row of a listing, Kazoo's crossbar_listing view.
func callflowRow(d store.Doc) map[string]any {
	var idx store.FlowIndex
	_ = json.Unmarshal(d.Index, &idx)
	doc, _ := Decode(d.Body)
	out := map[string]any{
		"id":          d.ID,
		"name":        d.Name,
		"numbers":     nonNil(idx.Numbers),
		"patterns":    nonNil(idx.Patterns),
		"featurecode": false,
		"modules":     modulesOf(doc["flow"]),
		"revision":    d.Revision,
	}
	if fc, ok := doc["featurecode"].(map[string]any); ok {
		out["featurecode"] = fc
	}
	for _, k := range []string{"type", "owner_id", "group_id", "flags"} {
		if v, ok := doc[k]; ok {
			out[k] = v
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// modulesOf lists the distinct modules of a flow tree, skipping skipped
// ones, in first-seen order.
func modulesOf(node any) []string {
	out := []string{}
	var walk func(n any, depth int)
	walk = func(n any, depth int) {
		m, ok := n.(map[string]any)
		if !ok || depth > 256 {
			return
		}
		if mod, ok := m["module"].(string); ok {
			data, _ := m["data"].(map[string]any)
			if skip, _ := data["skip_module"].(bool); !skip && !slices.Contains(out, mod) {
				out = append(out, mod)
			}
		}
		children, _ := m["children"].(map[string]any)
		keys := make([]string, 0, len(children))
		for k := range children {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			walk(children[k], depth+1)
		}
	}
	walk(node, 0)
	return out
}
