// Package engine walks a call-flow tree on a call and keeps the registry of
// Actions (one per call-flow module), so that the engine, the API's catalog
// and the UI's palette all come from one list.
package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Action is one call-flow module's executor, decoded once from a node's
// "data" and shared by every call that runs the node: Exec never writes to
// its receiver.
type Action interface {
	// Exec runs the module on one call and returns the child key to follow
	// next ("_" for the default child). A non-nil error is a handled failure
	// the engine reports in the call trace before choosing the next step.
	Exec(ctx context.Context, x *Exec) (branch string, err error)
}

// Validator is implemented by Actions with rules a JSON Schema cannot say;
// it runs when a flow is saved or loaded, never per call.
type Validator interface {
	Validate() error
}

// NodeValidator is implemented by Actions whose rules involve the node
// around their data (a menu needs children). It runs at save and load,
// after the node's children are compiled; the error's paths are relative to
// the node ("children", "children.1").
type NodeValidator interface {
	ValidateNode(n *Node) error
}

// Node is one block of a compiled call-flow tree. Package callflow builds
// it from a document; the engine only walks it.
type Node struct {
	Module   string
	Data     json.RawMessage
	Children map[string]*Node
	// Path is where the node sits in the document, "flow.children._".
	Path string
	// Action is the module's executor decoded from Data.
	Action Action
	// Skip is Kazoo's skip_module ("data": {"skip_module": true}): the
	// engine goes straight to the default child without running Action.
	// The compiler decides it once, so a call never inspects Data.
	Skip bool
}

// Spec describes a call-flow module: its Kazoo name, where it sits in the
// palette, the schema of its "data" and how to build its Action.
type Spec struct {
	Name     string        // Kazoo module name: "play", "menu", "pivot"
	Group    string        // palette group: "Basic", "Advanced", "Time of Day", "Caller ID"
	Label    string        // palette label shown to admins
	Icon     string        // icon id in web/
	Doc      string        // one sentence for the palette's tooltip
	Schema   []byte        // JSON Schema of "data"
	Branches []string      // fixed child keys ("_", "timeout"); nil = free keys (menu digits)
	Terminal bool          // takes no children
	New      func() Action // pointer to a zero value; "data" is json-decoded into it
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Spec{}
)

// Register adds a module. It is called from init() only and panics on an
// incomplete or duplicate Spec, so a bad build fails at start, never
// mid-call.
func Register(s Spec) {
	switch {
	case s.Name == "":
		panic("engine: Register with an empty module name")
	case s.New == nil:
		panic(fmt.Sprintf("engine: module %q registered without New", s.Name))
	case len(s.Schema) == 0:
		panic(fmt.Sprintf("engine: module %q registered without a schema", s.Name))
	case s.Group == "" || s.Label == "":
		panic(fmt.Sprintf("engine: module %q registered without a group or label", s.Name))
	}
	if !json.Valid(s.Schema) {
		panic(fmt.Sprintf("engine: module %q has a schema that is not JSON", s.Name))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[s.Name]; dup {
		panic(fmt.Sprintf("engine: module %q registered twice", s.Name))
	}
	registry[s.Name] = s
}

// Lookup finds a module by its Kazoo name.
func Lookup(name string) (Spec, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	s, ok := registry[name]
	return s, ok
}

// Specs returns every registered module sorted by name, so nothing rests on
// init order.
func Specs() []Spec {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Spec, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Spec) int { return strings.Compare(a.Name, b.Name) })
	return out
}
