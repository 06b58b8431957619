// Package document is the registry of account document kinds (call flows,
// trunks, temporal rules, users, devices, groups, menus, media, voice
// mailboxes, conferences, resources) and the one way a body becomes a
// stored document: Kazoo's leniency, defaults and schema, the kind's own
// rules, then the keys, references and networks the store enforces. The
// API, the server's indexes and the CLI all work from this one list, so a
// new kind is a registration, not a copy of 700 lines.
package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
)

// Kind is one kind of account document, registered once.
type Kind struct {
	// Name is Kazoo's API path segment and the stored kind: "users".
	Name string
	// Label names one document in messages: "user", "temporal rule".
	Label string
	// Param is the path parameter of a document's id in the routes
	// ("user_id"); Kazoo's names for the kinds that had routes before.
	Param string
	// Schema is our JSON Schema of the document (draft 2020-12), with
	// Kazoo's field names and defaults; nil when Normalise does it all.
	Schema []byte
	// Normalise checks what a schema cannot say and rewrites the document
	// as stored (hashes secrets, masks networks). It may return a
	// replacement map. A schema.ValidationError refuses the document.
	Normalise func(c *Context, doc map[string]any) (map[string]any, error)
	// Index derives what the store enforces and indexes: keys, references,
	// networks, the Doc.Index JSON. The document is already normalised.
	Index func(c *Context, doc map[string]any, w *store.DocWrite) error
	// Summary lists the keys a listing row copies besides id, name and
	// revision; SummaryFunc, when set, builds the row instead.
	Summary     []string
	SummaryFunc func(d store.Doc) map[string]any
	// ListAll makes a listing without page_size answer every document, as
	// the kind's listing did before pages (trunks).
	ListAll bool
	// Secrets are dotted paths removed from every answer (hashes of
	// passwords and PINs); export keeps them, so an import restores them.
	Secrets []string

	compiled *schema.Schema
}

// Context is what preparing a document may need beyond its body.
type Context struct {
	AccountID string
	// Previous is the stored document a write replaces (nil on create),
	// so that a secret not given again is kept.
	Previous map[string]any
	// Reserved are networks no tenant may claim (the operator's --trust).
	Reserved []netip.Prefix
}

var (
	mu    sync.RWMutex
	kinds = map[string]*Kind{}
)

// Register adds a kind; from init only. It panics on an empty or repeated
// name or a schema that does not compile, so a bad build fails at start.
func Register(k Kind) {
	if k.Name == "" || k.Label == "" || k.Param == "" {
		panic("document: kind needs a name, a label and a path parameter")
	}
	if k.Schema != nil {
		s, err := schema.Compile("switchboard:///"+k.Name+".json", k.Schema)
		if err != nil {
			panic(fmt.Sprintf("document: schema of %s: %v", k.Name, err))
		}
		k.compiled = s
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := kinds[k.Name]; dup {
		panic("document: kind registered twice: " + k.Name)
	}
	kinds[k.Name] = &k
}

// Lookup finds a registered kind by name.
func Lookup(name string) (*Kind, bool) {
	mu.RLock()
	defer mu.RUnlock()
	k, ok := kinds[name]
	return k, ok
}

// Kinds lists the registered kinds sorted by name, so nothing rests on
// init order.
func Kinds() []*Kind {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]*Kind, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *Kind) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// Decode reads one JSON object, numbers kept exact.
func Decode(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: more data after the document")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, schema.ValidationError{{Path: "data", Rule: "type", Message: "Value did not match type: object", Target: "object"}}
	}
	return m, nil
}

// Prepare turns a body into the write that stores it under id: strings
// standing for numbers and booleans typed, defaults applied, the schema and
// the kind's rules checked, "id" set, then the keys, references and
// networks derived. A schema.ValidationError lists everything wrong.
func (k *Kind) Prepare(c *Context, body []byte, id string) (store.DocWrite, error) {
	doc, err := Decode(body)
	if err != nil {
		return store.DocWrite{}, err
	}
	return k.PrepareDoc(c, doc, id)
}

// PrepareDoc is Prepare on a decoded document (which it may change).
func (k *Kind) PrepareDoc(c *Context, doc map[string]any, id string) (store.DocWrite, error) {
	delete(doc, "id")
	if k.compiled != nil {
		k.compiled.Coerce(doc)
		k.compiled.ApplyDefaults(doc)
		if errs := k.compiled.Validate(doc, ""); len(errs) > 0 {
			return store.DocWrite{}, errs.Sorted()
		}
	}
	if k.Normalise != nil {
		out, err := k.Normalise(c, doc)
		if err != nil {
			return store.DocWrite{}, err
		}
		doc = out
	}
	doc["id"] = id
	body, err := json.Marshal(doc)
	if err != nil {
		return store.DocWrite{}, fmt.Errorf("encode %s %s: %w", k.Label, id, err)
	}
	w := store.DocWrite{Doc: store.Doc{Kind: k.Name, ID: id, AccountID: c.AccountID, Body: body}}
	w.Name, _ = doc["name"].(string)
	if k.Index != nil {
		if err := k.Index(c, doc, &w); err != nil {
			return store.DocWrite{}, err
		}
	}
	return w, nil
}

// Answer is a stored body as the API returns it: the kind's secrets
// removed.
func (k *Kind) Answer(body []byte) json.RawMessage {
	if len(k.Secrets) == 0 {
		return body
	}
	doc, err := Decode(body)
	if err != nil {
		return body
	}
	for _, p := range k.Secrets {
		removePath(doc, p)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// Row is a listing row of a stored document.
func (k *Kind) Row(d store.Doc) map[string]any {
	if k.SummaryFunc != nil {
		return k.SummaryFunc(d)
	}
	out := map[string]any{"id": d.ID, "name": d.Name, "revision": d.Revision}
	if len(k.Summary) == 0 {
		return out
	}
	doc, err := Decode(d.Body)
	if err != nil {
		return out
	}
	for _, key := range k.Summary {
		if v, ok := doc[key]; ok {
			out[key] = v
		}
	}
	return out
}
