package server

import (
	"reflect"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/callflow"
)

// TestRingTargets: a transfer to a number rings what the number's flow
// begins by ringing; a flow that begins otherwise takes no transfer.
func TestRingTargets(t *testing.T) {
	for _, tc := range []struct {
		flow string
		want []call.Target
	}{
		{`{"module":"user","data":{"id":"u1"}}`, []call.Target{{Kind: "user", Value: "u1"}}},
		{`{"module":"device","data":{"id":"d1","custom_sip_headers":{"X-A":"1"}}}`, []call.Target{{Kind: "device", Value: "d1", Headers: map[string]string{"X-A": "1"}}}},
		{`{"module":"group","data":{"id":"g1"}}`, []call.Target{{Kind: "group", Value: "g1"}}},
		{`{"module":"ring_group","data":{"endpoints":[{"id":"u1","endpoint_type":"user"},{"id":"d2","endpoint_type":"device"}]}}`,
			[]call.Target{{Kind: "user", Value: "u1"}, {Kind: "device", Value: "d2"}}},
		{`{"module":"resources","data":{}}`, []call.Target{{Kind: "number", Value: "+14155550100"}}},
		{`{"module":"resources","data":{"to_did":"+18005550199"}}`, []call.Target{{Kind: "number", Value: "+18005550199"}}},
		{`{"module":"tts","data":{"text":"hi"}}`, nil},
		{`{"module":"user","data":{"id":"u1","skip_module":true},"children":{"_":{"module":"device","data":{"id":"d1"}}}}`,
			[]call.Target{{Kind: "device", Value: "d1"}}},
	} {
		f, err := callflow.Prepare([]byte(`{"numbers":["+14155550100"],"flow":` + tc.flow + `}`))
		if err != nil {
			t.Fatalf("%s: %v", tc.flow, err)
		}
		if got := ringTargets(f.Root, "+14155550100"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.flow, got, tc.want)
		}
	}
}
