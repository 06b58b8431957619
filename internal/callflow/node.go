package callflow

import (
	"bytes"
	"fmt"

	"github.com/switchboard/switchboard/internal/schema"
)

// CompileNode validates and compiles a bare flow node, as a Kazoo JSON
// Pivot answer carries it ({"module":…, "data":…, "children":…}), with the
// same rules and defaults as a saved document's "flow".
func CompileNode(raw []byte) (*Node, error) {
	n, _, err := CompileNodeCoerced(raw)
	return n, err
}

// CompileNodeCoerced is CompileNode that also answers the paths of values
// Kazoo's leniency typed ("flow.data.timeout" given as "20"), so the caller
// can warn about each.
func CompileNodeCoerced(raw []byte) (*Node, []string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, nil, schema.ValidationError{{Path: "flow", Rule: "type", Message: "Value did not match type: object", Target: "object"}}
	}
	doc := make([]byte, 0, len(t)+10)
	doc = append(doc, `{"flow":`...)
	doc = append(doc, t...)
	doc = append(doc, '}')
	f, err := Prepare(doc)
	if err != nil {
		return nil, nil, err
	}
	if f.Root == nil {
		return nil, nil, fmt.Errorf("compile node: no node")
	}
	return f.Root, f.Coerced, nil
}
