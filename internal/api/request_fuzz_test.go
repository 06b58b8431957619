package api

import (
	"errors"
	"testing"

	_ "github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/callflow"
)

// FuzzDecodeRequest feeds arbitrary bodies through what a create or update
// does before touching the store: the envelope, then the document. Neither
// may panic, and every refusal must be an error the API renders as a 400.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []string{
		`{"data":{"name":"x","numbers":["1000"],"flow":{"module":"pivot","data":{"voice_url":"https://a.test/v"}}}}`,
		`{"data":{"numbers":"1000"}}`,
		`{"data":[]}`,
		`{"data":null}`,
		`{"data":{"flow":{"module":"nope","data":{},"children":{"_":{"module":"pivot"}}}}}`,
		`{"data":{"patterns":["(("]}}`,
		`{"data":{"flow":{"module":"pivot","data":{"voice_url":"http://x","req_timeout_ms":1e99}}}}`,
		`[`,
		``,
		`{"revision":"1-abc","data":{}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRequest(body)
		if err != nil {
			if e, ok := errors.AsType[*Error](err); !ok || e.Status != 400 {
				t.Fatalf("decode refused with %v, want a 400 *Error", err)
			}
			return
		}
		_, err = callflow.Prepare(req.Data)
		if err != nil {
			if e := toError(err); e.Status != 400 {
				t.Fatalf("document refused with status %d (%v), want 400", e.Status, err)
			}
		}
	})
}
