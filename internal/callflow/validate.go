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
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/routing"
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
// The error is a ValidationError listing every problem found, sorted by path
// then rule, or a plain error when body is not JSON at all.
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
		return nil, ValidationError{{Path: "data", Rule: "type", Message: "Value did not match type: object", Target: "object"}}
	}

	c := &checker{ds: ds}
	applyDefaults(ds.docRaw, doc)
	c.validate(ds.doc, doc, "")

	f := &Flow{Doc: doc}
	f.ID, _ = doc["id"].(string)
	f.Name, _ = doc["name"].(string)
	c.numbers(f)
	c.patterns(f)
	if root, ok := doc["flow"].(map[string]any); ok {
		f.Root = c.node(root, "flow", 1)
	}

	if len(c.errs) > 0 {
		return nil, c.errs.sorted()
	}
	return f, nil
}

// Compile builds a Flow from a document already stored (the JSON Prepare's
// Doc was marshalled to). It runs the same checks as Prepare, so a module
// whose schema has grown stricter since the save shows up here as a
// ValidationError rather than mid-call.
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
	doc, node       *jsonschema.Schema
	docRaw, nodeRaw map[string]any
}

var loadDocSchemas = sync.OnceValues(func() (*docSchemaSet, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(docSchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("callflow: document schema: %w", err)
	}
	c := newCompiler()
	if err := c.AddResource(docSchemaURL, raw); err != nil {
		return nil, fmt.Errorf("callflow: document schema: %w", err)
	}
	ds := &docSchemaSet{}
	if ds.doc, err = c.Compile(docSchemaURL); err != nil {
		return nil, fmt.Errorf("callflow: document schema: %w", err)
	}
	if ds.node, err = c.Compile(nodeSchemaURL); err != nil {
		return nil, fmt.Errorf("callflow: node schema: %w", err)
	}
	ds.docRaw, _ = raw.(map[string]any)
	defs, _ := ds.docRaw["$defs"].(map[string]any)
	ds.nodeRaw, _ = defs["node"].(map[string]any)
	return ds, nil
})

// noLoader keeps schema compilation off the file system and the network:
// our schemas are self-contained.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded", url)
}

func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	return c
}

// moduleSchema is one module's compiled "data" schema, built on first use.
type moduleSchema struct {
	once   sync.Once
	schema *jsonschema.Schema
	raw    map[string]any
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
		ms.schema, ms.raw, ms.err = CompileModuleSchema(spec.Name, spec.Schema)
	})
	return ms
}

// CompileModuleSchema compiles a module's data schema (draft 2020-12 unless
// it says otherwise) and returns it with its decoded JSON, where the
// defaults are read from.
func CompileModuleSchema(name string, schema []byte) (*jsonschema.Schema, map[string]any, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, nil, fmt.Errorf("module %s: schema: %w", name, err)
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("module %s: schema is not an object", name)
	}
	url := "switchboard:module/" + name
	c := newCompiler()
	if err := c.AddResource(url, raw); err != nil {
		return nil, nil, fmt.Errorf("module %s: schema: %w", name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, nil, fmt.Errorf("module %s: schema: %w", name, err)
	}
	return s, m, nil
}

// ---- the checks ----

type checker struct {
	ds   *docSchemaSet
	errs ValidationError
}

func (c *checker) add(f FieldError) { c.errs = append(c.errs, f) }

// hasErrorsUnder reports whether an error was found at path or below it.
func (c *checker) hasErrorsUnder(path string) bool {
	for _, f := range c.errs {
		if f.Path == path || strings.HasPrefix(f.Path, path+".") {
			return true
		}
	}
	return false
}

// validate checks v against s and records the failures under prefix. It
// reports whether v passed.
func (c *checker) validate(s *jsonschema.Schema, v any, prefix string) bool {
	err := s.Validate(v)
	if err == nil {
		return true
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		c.add(FieldError{Path: joinPath(prefix, nil), Rule: "error", Message: err.Error()})
		return false
	}
	before := len(c.errs)
	c.schemaErrors(ve, v, prefix)
	if len(c.errs) == before { // a failure with no leaf we understand
		c.add(FieldError{Path: joinPath(prefix, ve.InstanceLocation), Rule: "error", Message: "failed to validate"})
	}
	return false
}

func (c *checker) schemaErrors(e *jsonschema.ValidationError, root any, prefix string) {
	if len(e.Causes) > 0 {
		for _, cause := range e.Causes {
			c.schemaErrors(cause, root, prefix)
		}
		return
	}
	loc := e.InstanceLocation
	path := joinPath(prefix, loc)
	val := valueAt(root, loc)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			c.add(FieldError{Path: joinPath(path, []string{m}), Rule: "required", Message: "Field is required but missing"})
		}
	case *kind.Type:
		var target any = k.Want
		if len(k.Want) == 1 {
			target = k.Want[0]
		}
		c.add(FieldError{Path: path, Rule: "type", Message: "Value did not match type: " + strings.Join(k.Want, ", "), Target: target, Value: val})
	case *kind.Enum:
		c.add(FieldError{Path: path, Rule: "enum", Message: "Value not found in enumerated list of values", Target: k.Want, Value: val})
	case *kind.Const:
		c.add(FieldError{Path: path, Rule: "const", Message: "Value does not match the constant", Target: k.Want, Value: val})
	case *kind.Pattern:
		c.add(FieldError{Path: path, Rule: "pattern", Message: "Failed to match pattern '" + k.Want + "'", Target: k.Want, Value: val})
	case *kind.MinLength:
		c.add(FieldError{Path: path, Rule: "minLength", Message: fmt.Sprintf("String must be at least %d characters", k.Want), Target: k.Want, Value: val})
	case *kind.MaxLength:
		c.add(FieldError{Path: path, Rule: "maxLength", Message: fmt.Sprintf("String must not be more than %d characters", k.Want), Target: k.Want, Value: val})
	case *kind.Minimum:
		n := ratNumber(k.Want.RatString())
		c.add(FieldError{Path: path, Rule: "minimum", Message: "Value must be at least " + n.String(), Target: n, Value: val})
	case *kind.Maximum:
		n := ratNumber(k.Want.RatString())
		c.add(FieldError{Path: path, Rule: "maximum", Message: "Value must be at most " + n.String(), Target: n, Value: val})
	case *kind.ExclusiveMinimum:
		n := ratNumber(k.Want.RatString())
		c.add(FieldError{Path: path, Rule: "exclusiveMinimum", Message: "Value must be more than " + n.String(), Target: n, Value: val})
	case *kind.ExclusiveMaximum:
		n := ratNumber(k.Want.RatString())
		c.add(FieldError{Path: path, Rule: "exclusiveMaximum", Message: "Value must be less than " + n.String(), Target: n, Value: val})
	case *kind.MultipleOf:
		n := ratNumber(k.Want.RatString())
		c.add(FieldError{Path: path, Rule: "multipleOf", Message: "Value not divisible by " + n.String(), Target: n, Value: val})
	case *kind.MinItems:
		c.add(FieldError{Path: path, Rule: "minItems", Message: fmt.Sprintf("The list must have at least %d items", k.Want), Target: k.Want})
	case *kind.MaxItems:
		c.add(FieldError{Path: path, Rule: "maxItems", Message: fmt.Sprintf("The list is more than %d items", k.Want), Target: k.Want})
	case *kind.UniqueItems:
		c.add(FieldError{Path: path, Rule: "uniqueItems", Message: "List of items is not unique", Value: valueAt(val, []string{strconv.Itoa(k.Duplicates[1])})})
	case *kind.MinProperties:
		c.add(FieldError{Path: path, Rule: "minProperties", Message: fmt.Sprintf("The object must have at least %d keys", k.Want), Target: k.Want})
	case *kind.MaxProperties:
		c.add(FieldError{Path: path, Rule: "maxProperties", Message: fmt.Sprintf("The object must have at most %d keys", k.Want), Target: k.Want})
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			c.add(FieldError{Path: joinPath(path, []string{p}), Rule: "additionalProperties", Message: "Strict checking of data is enabled; only include schema-defined properties"})
		}
	case *kind.Format:
		c.add(FieldError{Path: path, Rule: "format", Message: "Field is not in the correct format", Target: k.Want, Value: val})
	case *kind.FalseSchema:
		c.add(FieldError{Path: path, Rule: "not", Message: "Field is not allowed", Value: val})
	default:
		rule := "error"
		if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
			rule = kp[0]
		}
		c.add(FieldError{Path: path, Rule: rule, Message: e.Error(), Value: val})
	}
}

// ratNumber turns a big.Rat's RatString ("5000", "1/2") into a JSON number.
func ratNumber(s string) json.Number {
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseFloat(num, 64)
		d, err2 := strconv.ParseFloat(den, 64)
		if err1 == nil && err2 == nil && d != 0 {
			return json.Number(strconv.FormatFloat(n/d, 'g', -1, 64))
		}
	}
	return json.Number(s)
}

// numbers normalises "numbers" in place once the schema is satisfied, and
// reports numbers that become empty, too long or duplicated.
func (c *checker) numbers(f *Flow) {
	arr, ok := f.Doc["numbers"].([]any)
	if !ok || c.hasErrorsUnder("numbers") {
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
			c.add(FieldError{Path: at, Rule: "minLength", Message: "String must be at least 1 characters", Target: 1, Value: s})
		case l > 36:
			c.add(FieldError{Path: at, Rule: "maxLength", Message: "String must not be more than 36 characters", Target: 36, Value: n})
		}
		if seen[n] {
			c.add(FieldError{Path: "numbers", Rule: "uniqueItems", Message: "List of items is not unique", Value: n})
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
			c.add(FieldError{Path: "patterns." + strconv.Itoa(i), Rule: "pattern", Message: "Invalid regular expression: " + err.Error(), Value: s})
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
		c.add(FieldError{Path: path, Rule: "maxDepth", Message: fmt.Sprintf("Blocks may not nest more than %d deep", MaxDepth), Target: MaxDepth})
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		c.validate(c.ds.node, v, path)
		return nil
	}
	applyDefaults(c.ds.nodeRaw, obj)
	c.validate(c.ds.node, obj, path)

	n := &Node{Path: path}
	var spec engine.Spec
	known := false
	if m, ok := obj["module"].(string); ok && m != "" && utf8.RuneCountInString(m) <= 64 {
		n.Module = m
		if spec, known = engine.Lookup(m); !known {
			c.add(FieldError{Path: path + ".module", Rule: "enum", Message: "unable to find callflow schema for module " + m, Value: m})
		}
	}

	if children, ok := obj["children"].(map[string]any); ok {
		if known && spec.Terminal && len(children) > 0 {
			c.add(FieldError{Path: path + ".children", Rule: "terminal", Message: "module " + spec.Name + " takes no children"})
		}
		keys := make([]string, 0, len(children))
		for k := range children {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if child := c.node(children[k], path+".children."+escapeKey(k), depth+1); child != nil {
				if n.Children == nil {
					n.Children = make(map[string]*Node, len(children))
				}
				n.Children[k] = child
			}
		}
	}

	if data, ok := obj["data"].(map[string]any); ok && known {
		c.data(n, spec, data)
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
		c.add(FieldError{Path: at, Rule: "schema", Message: ms.err.Error()})
		return
	}
	applyDefaults(ms.raw, data)
	ok := c.validate(ms.schema, data, at)
	raw, err := json.Marshal(data)
	if err != nil {
		c.add(FieldError{Path: at, Rule: "type", Message: err.Error()})
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
func decodeAction(spec engine.Spec, raw []byte, at string) (act engine.Action, errs []FieldError) {
	defer func() {
		if r := recover(); r != nil {
			act = nil
			errs = []FieldError{{Path: at, Rule: "error", Message: fmt.Sprintf("module %s could not load its data: %v", spec.Name, r)}}
		}
	}()
	act = spec.New()
	if err := json.Unmarshal(raw, act); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, []FieldError{{Path: at + "." + te.Field, Rule: "type", Message: "Value did not match type: " + te.Type.String(), Target: te.Type.String(), Value: te.Value}}
		}
		return nil, []FieldError{{Path: at, Rule: "type", Message: err.Error()}}
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
func validatorErrors(at string, err error) []FieldError {
	prefix := func(f FieldError) FieldError {
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
	var ve ValidationError
	if errors.As(err, &ve) {
		out := make([]FieldError, 0, len(ve))
		for _, f := range ve {
			out = append(out, prefix(f))
		}
		if len(out) > 0 {
			return out
		}
	}
	var fp *FieldError
	if errors.As(err, &fp) && fp != nil {
		return []FieldError{prefix(*fp)}
	}
	var fv FieldError
	if errors.As(err, &fv) {
		return []FieldError{prefix(fv)}
	}
	return []FieldError{{Path: at, Rule: "error", Message: err.Error()}}
}

// ---- paths ----

// escapeKey escapes a literal dot in a key as Kazoo does, so the dotted path
// stays unambiguous.
func escapeKey(k string) string { return strings.ReplaceAll(k, ".", "%2E") }

func joinPath(prefix string, loc []string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, t := range loc {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(escapeKey(t))
	}
	return b.String()
}

// valueAt finds the value at an instance location (object keys and array
// indexes), or nil.
func valueAt(v any, loc []string) any {
	for _, t := range loc {
		switch x := v.(type) {
		case map[string]any:
			v = x[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// sorted orders the errors by path then rule and drops repeats.
func (v ValidationError) sorted() ValidationError {
	slices.SortStableFunc(v, func(a, b FieldError) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return slices.CompactFunc(v, func(a, b FieldError) bool { return a.Path == b.Path && a.Rule == b.Rule })
}
