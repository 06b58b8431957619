// Package callflow is the call-flow document and its compiler: decoding,
// validation against our own schemas (with Kazoo's defaults), number
// normalisation, and the engine.Node tree every call walks. Routing a
// dialled number to a flow is package routing's job.
package callflow

import (
	"regexp"

	"github.com/switchboard/switchboard/internal/engine"
)

// Flow is a validated call-flow document, compatible with Kazoo's
// "callflows" document.
type Flow struct {
	ID       string
	Name     string
	Numbers  []string // normalised (see routing.Normalize)
	Patterns []string // regular expressions, compiled at validation
	Root     *Node    // the "flow" key; nil when the document has none
	// Doc is the whole document as it is stored: defaults applied, numbers
	// normalised, unknown keys kept (Kazoo clients round-trip them).
	Doc map[string]any
	// Regexps are Patterns compiled, in the same order.
	Regexps []*regexp.Regexp
	// Coerced are the paths of values given as strings where Kazoo's
	// schemas type a number or a boolean ("486", "true"), now typed: a
	// Pivot answer reports them in the call trace's warning line.
	Coerced []string
}

// Node is one block of the tree, decoded once when the flow is saved or
// loaded, never per call. It is the engine's node: the engine walks what
// this package compiles.
type Node = engine.Node
