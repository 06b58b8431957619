package callflow_test

import (
	"errors"
	"testing"

	_ "github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/schema"
)

// FuzzCompileNode feeds arbitrary bodies to the Kazoo JSON decoder a Pivot
// answer goes through. It never panics; it either refuses with a
// ValidationError or returns a tree whose every node has an executor.
func FuzzCompileNode(f *testing.F) {
	for _, s := range []string{
		`{"module":"tts","data":{"text":"hi"}}`,
		`{"module":"pivot","data":{"voice_url":"http://a.test/next"},"children":{"_":{"module":"tts","data":{"text":"bye"}}}}`,
		`{"module":"collect_dtmf","data":{"max_digits":4,"collection_name":"pin"},"children":{"_":{"module":"pivot","data":{"voice_url":"https://a.test/pin","method":"post"}}}}`,
		`{"module":"sleep","data":{"duration":"x"}}`,
		`{"module":"nope","data":{}}`,
		`{"module":"response","data":{"code":486},"children":{"_":{"module":"tts","data":{"text":"x"}}}}`,
		`[]`,
		`"tts"`,
		`{"module":"tts","data":{"text":"a"},"children":{"a.b":{"module":"tts","data":{"text":"b"}}}}`,
		`{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		root, err := callflow.CompileNode(body)
		if err != nil {
			if _, ok := errors.AsType[schema.ValidationError](err); !ok && root != nil {
				t.Fatalf("error %v with a tree", err)
			}
			return
		}
		var walk func(n *callflow.Node, depth int)
		walk = func(n *callflow.Node, depth int) {
			if n.Action == nil {
				t.Fatalf("node %s has no executor", n.Path)
			}
			if depth > callflow.MaxDepth+1 {
				t.Fatalf("tree deeper than MaxDepth")
			}
			for _, c := range n.Children {
				walk(c, depth+1)
			}
		}
		walk(root, 1)
	})
}
