// Package schema is how Switchboard checks a JSON document and reports what
// is wrong with it: JSON Schema compilation (draft 2020-12 by default, off
// the file system and the network), Kazoo's defaults written into the
// document, and the field errors every API answers in Kazoo's shape. It is
// a leaf, so that every package that validates something (call flows,
// temporal rules, modules' own rules) shares one error type without
// importing the others.
package schema

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is a compiled JSON Schema kept with its decoded source, because
// the library validates but does not apply defaults: ApplyDefaults reads
// them from the source. Compile once; a Schema is safe for concurrent use.
type Schema struct {
	url      string
	compiler *jsonschema.Compiler
	compiled *jsonschema.Schema
	raw      map[string]any
}

// Compile compiles a self-contained schema document under the name url
// (which "$ref"s and error messages use). The draft is 2020-12 unless the
// document says otherwise; a "$ref" to anything outside the document is an
// error, never a fetch.
func Compile(url string, doc []byte) (*Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	raw, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("schema is not an object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(url, v); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &Schema{url: url, compiler: c, compiled: s, raw: raw}, nil
}

// Def compiles the definition "$defs/name" of s, for a document whose parts
// are checked one at a time (a call flow's nodes, each with its own path
// and defaults) with the rules the whole document's schema gives them.
// It compiles, so call it while setting up, before s is shared.
func (s *Schema) Def(name string) (*Schema, error) {
	c, err := s.compiler.Compile(s.url + "#/$defs/" + name)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	defs, _ := s.raw["$defs"].(map[string]any)
	raw, _ := defs[name].(map[string]any)
	return &Schema{url: s.url + "#/$defs/" + name, compiler: s.compiler, compiled: c, raw: raw}, nil
}

// ApplyDefaults writes into obj the defaults the schema gives for what obj
// lacks (see applyDefaults), as Kazoo does when a document is saved.
func (s *Schema) ApplyDefaults(obj map[string]any) { applyDefaults(s.raw, obj) }

// noLoader keeps schema compilation off the file system and the network:
// our schemas are self-contained.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded", url)
}
