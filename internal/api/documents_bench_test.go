package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/servertest"
)

// BenchmarkSaveFlowWith50References saves (POST) a call flow whose 50
// play nodes each name a stored media document, through the HTTP API:
// validation, the 50 reference checks and the indexes' update included.
func BenchmarkSaveFlowWith50References(b *testing.B) {
	s := servertest.New(b)
	var media []document.Entry
	for i := range 50 {
		body, _ := json.Marshal(map[string]any{"name": fmt.Sprint("prompt ", i), "media_source": "upload"})
		media = append(media, document.Entry{Kind: "media", ID: fmt.Sprintf("media%02d", i), Document: body})
	}
	importDocs(b, s, s.AccountID, s.Token, media)
	var node map[string]any
	for i := 49; i >= 0; i-- {
		n := map[string]any{"module": "play", "data": map[string]any{"id": fmt.Sprintf("media%02d", i)}}
		if node != nil {
			n["children"] = map[string]any{"_": node}
		}
		node = n
	}
	flow := data(map[string]any{"name": "fifty prompts", "numbers": []string{"5050"}, "flow": node})
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, flow)
	if status != 201 {
		b.Fatalf("create: %d %v", status, env)
	}
	id := servertest.Lookup(env, "data.id").(string)
	b.ResetTimer()
	for b.Loop() {
		if status, env := s.Do("POST", "/v2/accounts/"+s.AccountID+"/callflows/"+id, s.Token, flow); status != 200 {
			b.Fatalf("save: %d %v", status, env)
		}
	}
}

// BenchmarkList10000Filtered lists the one device with a given owner out
// of 10,000 documents of the kind (filter_owner_id=…, a JSON field, no
// index of its own), through the HTTP API.
func BenchmarkList10000Filtered(b *testing.B) {
	s := servertest.New(b)
	users := []document.Entry{{Kind: "users", ID: "owner0", Document: []byte(`{"first_name":"A","last_name":"B"}`)},
		{Kind: "users", ID: "owner1", Document: []byte(`{"first_name":"C","last_name":"D"}`)}}
	importDocs(b, s, s.AccountID, s.Token, users)
	for chunk := range 10 {
		var devs []document.Entry
		for i := range 1000 {
			n := chunk*1000 + i
			owner := "owner0"
			if n == 7777 {
				owner = "owner1"
			}
			body, _ := json.Marshal(map[string]any{"name": fmt.Sprint("phone ", n), "owner_id": owner})
			devs = append(devs, document.Entry{Kind: "devices", ID: fmt.Sprintf("dev%05d", n), Document: body})
		}
		importDocs(b, s, s.AccountID, s.Token, devs)
	}
	b.ResetTimer()
	for b.Loop() {
		status, env := s.Do("GET", "/v2/accounts/"+s.AccountID+"/devices?filter_owner_id=owner1", s.Token, nil)
		if rows, _ := env["data"].([]any); status != 200 || len(rows) != 1 {
			b.Fatalf("list: %d %v", status, env)
		}
	}
}
