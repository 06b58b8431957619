package callflow

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/routing"
	"github.com/switchboard/switchboard/internal/schema"
)

// MaxDepth is how deep blocks may nest: the root is at depth 1. Kazoo has no
// such limit; ours keeps every walk of a tree (here, in the engine, in the
// UI) far from any stack limit.
const MaxDepth = 64

//go:embed schemas/callflow.json
var docSchemaJSON []byte

const (
	docSchemaURL  = "switchboard:callflow"
	nodeSchemaURL = docSchemaURL + "#/$defs/node"
)

// Prepare decodes a call-flow document (the "data" of an API request),
// validates it, applies schema defaults (as Kazoo does on save), normalises
// its numbers (routing.Normalize), compiles its patterns and decodes every node's
// data into its engine.Action.
//
// The returned Flow.Doc is the document to store: unknown keys kept, numbers
// normalised, defaults applied; "id" is left as given. Numbers are decoded
// with UseNumber, so big integers stay exact.
//
// The error is a schema.ValidationError listing every problem found, sorted
// by path then rule, or a plain error when body is not JSON at all.
func Prepare(body []byte) (*Flow, error) {
	ds, err := loadDocSchemas()
	if err != nil {
		return nil, err
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, schema.ValidationError{{Path: "data", Rule: "type", Message: "Value did not match type: object", Target: "object"}}
	}

	c := &checker{ds: ds}
	c.coerced = ds.doc.Coerce(doc) // Kazoo's leniency: "486" for 486, "true" for true
	ds.doc.ApplyDefaults(doc)
	c.validate(ds.doc, doc, "")

	f := &Flow{Doc: doc}
	f.ID, _ = doc["id"].(string)
	f.Name, _ = doc["name"].(string)
	c.numbers(f)
	c.patterns(f)
	if root, ok := doc["flow"].(map[string]any); ok {
		f.Root = c.node(root, "flow", 1)
	}
	f.Coerced = slices.Sorted(slices.Values(c.coerced)) // Coerce walks maps: sorted, one order

	if len(c.errs) > 0 {
		return nil, c.errs.Sorted()
	}
	return f, nil
}

// Compile builds a Flow from a document already stored (the JSON Prepare's
// Doc was marshalled to). It runs the same checks as Prepare, so a module
// whose schema has grown stricter since the save shows up here as a
// schema.ValidationError rather than mid-call.
func Compile(stored []byte) (*Flow, error) {
	return Prepare(stored)
}

// decodeJSON reads exactly one JSON value, numbers as json.Number.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("callflow: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("callflow: invalid JSON: more data after the document")
	}
	return v, nil
}

// ---- schemas ----

type docSchemaSet struct {
	doc, node *schema.Schema
}

var loadDocSchemas = sync.OnceValues(func() (*docSchemaSet, error) {
	doc, err := schema.Compile(docSchemaURL, docSchemaJSON)
	if err != nil {
		return nil, fmt.Errorf("callflow: document %w", err)
	}
	node, err := doc.Def("node")
	if err != nil {
		return nil, fmt.Errorf("callflow: node %w", err)
	}
	return &docSchemaSet{doc: doc, node: node}, nil
})

// moduleSchema is one module's compiled "data" schema, built on first use.
type moduleSchema struct {
	once   sync.Once
	schema *schema.Schema
	err    error
}

var (
	moduleSchemasMu sync.Mutex
	moduleSchemas   = map[string]*moduleSchema{}
)

// moduleSchemaOf compiles a module's data schema, once per module name.
func moduleSchemaOf(spec engine.Spec) *moduleSchema {
	moduleSchemasMu.Lock()
	ms := moduleSchemas[spec.Name]
	if ms == nil {
		ms = &moduleSchema{}
		moduleSchemas[spec.Name] = ms
	}
	moduleSchemasMu.Unlock()
	ms.once.Do(func() {
		ms.schema, ms.err = CompileModuleSchema(spec.Name, spec.Schema)
	})
	return ms
}

// CompileModuleSchema compiles a module's data schema (draft 2020-12 unless
// it says otherwise), as every node of that module is checked against it and
// given its defaults.
func CompileModuleSchema(name string, doc []byte) (*schema.Schema, error) {
	s, err := schema.Compile("switchboard:module/"+name, doc)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", name, err)
	}
	return s, nil
}

// ---- the checks ----

type checker struct {
	ds      *docSchemaSet
	errs    schema.ValidationError
	coerced []string // paths of strings typed by Kazoo's leniency
}

func (c *checker) add(f schema.FieldError) { c.errs = append(c.errs, f) }

// validate checks v against s and records the failures under prefix. It
// reports whether v passed.
func (c *checker) validate(s *schema.Schema, v any, prefix string) bool {
	errs := s.Validate(v, prefix)
	c.errs = append(c.errs, errs...)
	return len(errs) == 0
}

// numbers normalises "numbers" in place once the schema is satisfied, and
// reports numbers that become empty, too long or duplicated.
func (c *checker) numbers(f *Flow) {
	arr, ok := f.Doc["numbers"].([]any)
	if !ok || c.errs.Failed("numbers") {
		return
	}
	out := make([]any, len(arr))
	f.Numbers = make([]string, 0, len(arr))
	seen := make(map[string]bool, len(arr))
	for i, e := range arr {
		s, _ := e.(string)
		n := routing.Normalize(s)
		out[i] = n
		f.Numbers = append(f.Numbers, n)
		at := "numbers." + strconv.Itoa(i)
		switch l := utf8.RuneCountInString(n); {
		case l < 1:
			c.add(schema.FieldError{Path: at, Rule: "minLength", Message: "String must be at least 1 characters", Target: 1, Value: s})
		case l > 36:
			c.add(schema.FieldError{Path: at, Rule: "maxLength", Message: "String must not be more than 36 characters", Target: 36, Value: n})
		}
		if seen[n] {
			c.add(schema.FieldError{Path: "numbers", Rule: "uniqueItems", Message: "List of items is not unique", Value: n})
		}
		seen[n] = true
	}
	f.Doc["numbers"] = out
}

// patterns compiles every pattern with Go's regexp (Perl syntax without
// backreferences or lookaround).
func (c *checker) patterns(f *Flow) {
	arr, ok := f.Doc["patterns"].([]any)
	if !ok {
		return
	}
	for i, e := range arr {
		s, ok := e.(string)
		if !ok || s == "" {
			continue // the schema has said so
		}
		re, err := regexp.Compile(s)
		if err != nil {
			c.add(schema.FieldError{Path: "patterns." + strconv.Itoa(i), Rule: "pattern", Message: "Invalid regular expression: " + err.Error(), Value: s})
			continue
		}
		f.Patterns = append(f.Patterns, s)
		f.Regexps = append(f.Regexps, re)
	}
}

// node checks one block and its children and builds its Node; it returns
// nil when v is not a block at all.
func (c *checker) node(v any, path string, depth int) *Node {
	if depth > MaxDepth {
		c.add(schema.FieldError{Path: path, Rule: "maxDepth", Message: fmt.Sprintf("Blocks may not nest more than %d deep", MaxDepth), Target: MaxDepth})
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		c.validate(c.ds.node, v, path)
		return nil
	}
	c.ds.node.ApplyDefaults(obj)
	c.validate(c.ds.node, obj, path)

	n := &Node{Path: path}
	var spec engine.Spec
	known := false
	if m, ok := obj["module"].(string); ok && m != "" && utf8.RuneCountInString(m) <= 64 {
		n.Module = m
		if spec, known = engine.Lookup(m); !known {
			c.add(schema.FieldError{Path: path + ".module", Rule: "enum", Message: "unable to find callflow schema for module " + m, Value: m})
		}
	}

	if children, ok := obj["children"].(map[string]any); ok {
		if known && spec.Terminal && len(children) > 0 {
			c.add(schema.FieldError{Path: path + ".children", Rule: "terminal", Message: "module " + spec.Name + " takes no children"})
		}
		keys := make([]string, 0, len(children))
		for k := range children {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if child := c.node(children[k], schema.JoinPath(path+".children", k), depth+1); child != nil {
				if n.Children == nil {
					n.Children = make(map[string]*Node, len(children))
				}
				n.Children[k] = child
			}
		}
	}

	if data, ok := obj["data"].(map[string]any); ok && known {
		c.data(n, spec, data)
		n.Skip = data["skip_module"] == true
	}
	if v, ok := n.Action.(engine.NodeValidator); ok {
		if err := v.ValidateNode(n); err != nil {
			c.errs = append(c.errs, validatorErrors(n.Path, err)...)
		}
	}
	return n
}

// data applies the module's defaults, checks data against its schema, and
// decodes it into the module's Action.
func (c *checker) data(n *Node, spec engine.Spec, data map[string]any) {
	at := n.Path + ".data"
	ms := moduleSchemaOf(spec)
	if ms.err != nil {
		c.add(schema.FieldError{Path: at, Rule: "schema", Message: ms.err.Error()})
		return
	}
	for _, p := range ms.schema.Coerce(data) {
		c.coerced = append(c.coerced, schema.JoinPath(at, p))
	}
	ms.schema.ApplyDefaults(data)
	ok := c.validate(ms.schema, data, at)
	raw, err := json.Marshal(data)
	if err != nil {
		c.add(schema.FieldError{Path: at, Rule: "type", Message: err.Error()})
		return
	}
	n.Data = raw
	if !ok {
		return
	}
	act, errs := decodeAction(spec, raw, at)
	if len(errs) > 0 {
		c.errs = append(c.errs, errs...)
		return
	}
	n.Action = act
}

// decodeAction json-decodes data into a fresh Action and runs its
// Validator. A panic in a module's code is reported, not propagated: a
// document must never take the server down.
func decodeAction(spec engine.Spec, raw []byte, at string) (act engine.Action, errs []schema.FieldError) {
	defer func() {
		if r := recover(); r != nil {
			act = nil
			errs = []schema.FieldError{{Path: at, Rule: "error", Message: fmt.Sprintf("module %s could not load its data: %v", spec.Name, r)}}
		}
	}()
	act = spec.New()
	if err := json.Unmarshal(raw, act); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, []schema.FieldError{{Path: at + "." + te.Field, Rule: "type", Message: "Value did not match type: " + te.Type.String(), Target: te.Type.String(), Value: te.Value}}
		}
		return nil, []schema.FieldError{{Path: at, Rule: "type", Message: err.Error()}}
	}
	if v, ok := act.(engine.Validator); ok {
		if err := v.Validate(); err != nil {
			return nil, validatorErrors(at, err)
		}
	}
	return act, nil
}

// validatorErrors turns a Validator's error into FieldErrors under at (the
// node's "data" path).
func validatorErrors(at string, err error) []schema.FieldError {
	prefix := func(f schema.FieldError) schema.FieldError {
		if f.Path == "" {
			f.Path = at
		} else {
			f.Path = at + "." + f.Path
		}
		if f.Rule == "" {
			f.Rule = "error"
		}
		return f
	}
	var ve schema.ValidationError
	if errors.As(err, &ve) {
		out := make([]schema.FieldError, 0, len(ve))
		for _, f := range ve {
			out = append(out, prefix(f))
		}
		if len(out) > 0 {
			return out
		}
	}
	var fp *schema.FieldError
	if errors.As(err, &fp) && fp != nil {
		return []schema.FieldError{prefix(*fp)}
	}
	var fv schema.FieldError
	if errors.As(err, &fv) {
		return []schema.FieldError{prefix(fv)}
	}
	return []schema.FieldError{{Path: at, Rule: "error", Message: err.Error()}}
}
