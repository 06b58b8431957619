package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/store/sqlite"
)

func pivotFlow(name string, numbers ...string) map[string]any {
	return map[string]any{"data": map[string]any{
		"name":    name,
		"numbers": numbers,
		"flow": map[string]any{
			"module": "pivot",
			"data":   map[string]any{"voice_url": "https://example.com/voice", "method": "POST", "req_format": "twiml"},
		},
	}}
}

func create(t *testing.T, s *servertest.Server, body any) map[string]any {
	t.Helper()
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, body)
	if status != http.StatusCreated {
		t.Fatalf("create: status %d: %v", status, env)
	}
	return env
}

func TestCallflowCRUDThroughHTTPAndSQLite(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	base := "/v2/accounts/" + s.AccountID + "/callflows"

	env := create(t, s, pivotFlow("Main line", "4155551234", "1000"))
	if env["status"] != "success" || env["request_id"] == "" || env["auth_token"] != s.Token {
		t.Fatalf("envelope: %v", env)
	}
	doc := env["data"].(map[string]any)
	id := doc["id"].(string)
	rev1 := env["revision"].(string)
	if !strings.HasPrefix(rev1, "1-") {
		t.Errorf("first revision %q, want 1-…", rev1)
	}
	if got := fmt.Sprint(doc["numbers"]); got != "[+14155551234 1000]" {
		t.Errorf("numbers not normalised: %v", got)
	}
	data := doc["flow"].(map[string]any)["data"].(map[string]any)
	if data["req_body_format"] != "form" || data["debug"] != false {
		t.Errorf("schema defaults not applied: %v", data)
	}

	// Read back through the API.
	status, got := s.Do("GET", base+"/"+id, s.Token, nil)
	if status != 200 || got["revision"] != rev1 || got["data"].(map[string]any)["name"] != "Main line" {
		t.Fatalf("get: %d %v", status, got)
	}

	// Update with the current revision.
	upd := pivotFlow("Main line v2", "4155551234")
	upd["revision"] = rev1
	status, got = s.Do("POST", base+"/"+id, s.Token, upd)
	if status != 200 {
		t.Fatalf("update: %d %v", status, got)
	}
	rev2 := got["revision"].(string)
	if !strings.HasPrefix(rev2, "2-") {
		t.Errorf("second revision %q", rev2)
	}

	// Patch: merge, null removes.
	status, got = s.Do("PATCH", base+"/"+id, s.Token, map[string]any{"data": map[string]any{"name": "Patched", "flags": []string{"x"}, "numbers": nil}})
	if status != 200 {
		t.Fatalf("patch: %d %v", status, got)
	}
	pd := got["data"].(map[string]any)
	if pd["name"] != "Patched" || fmt.Sprint(pd["numbers"]) != "[]" || fmt.Sprint(pd["flags"]) != "[x]" {
		t.Errorf("patched doc: %v", pd)
	}

	// The document is in the SQLite file, as the API answered it.
	db, err := sqlite.Open(t.Context(), filepath.Join(s.DataDir, server.DatabaseFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.GetCallflow(t.Context(), s.AccountID, id)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var storedDoc map[string]any
	if err := json.Unmarshal(stored.Body, &storedDoc); err != nil {
		t.Fatal(err)
	}
	if storedDoc["name"] != "Patched" || stored.Revision != got["revision"] {
		t.Errorf("sqlite has %v rev %s, API said rev %v", storedDoc["name"], stored.Revision, got["revision"])
	}

	// Delete, then it is gone.
	status, _ = s.Do("DELETE", base+"/"+id, s.Token, nil)
	if status != 200 {
		t.Fatalf("delete: %d", status)
	}
	status, _ = s.Do("GET", base+"/"+id, s.Token, nil)
	if status != 404 {
		t.Errorf("get after delete: %d, want 404", status)
	}
}

func TestStaleRevisionRefused(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	base := "/v2/accounts/" + s.AccountID + "/callflows/"
	env := create(t, s, pivotFlow("A", "2000"))
	id, rev1 := env["data"].(map[string]any)["id"].(string), env["revision"].(string)

	// Admin 1 saves on rev1.
	first := pivotFlow("Admin one", "2000")
	first["revision"] = rev1
	if status, env := s.Do("POST", base+id, s.Token, first); status != 200 {
		t.Fatalf("first save: %d %v", status, env)
	}
	// Admin 2 also read rev1: refused, with both the envelope and If-Match.
	second := pivotFlow("Admin two", "2000")
	second["revision"] = rev1
	status, env := s.Do("POST", base+id, s.Token, second)
	if status != http.StatusConflict {
		t.Fatalf("stale save: %d %v, want 409", status, env)
	}
	status, raw := s.DoRaw("POST", base+id, s.Token, pivotFlow("Admin two", "2000"), http.Header{"If-Match": {`"` + rev1 + `"`}})
	if status != http.StatusConflict {
		t.Fatalf("stale save with If-Match: %d %s", status, raw)
	}
	status, raw = s.DoRaw("DELETE", base+id, s.Token, nil, http.Header{"If-Match": {rev1}})
	if status != http.StatusConflict {
		t.Fatalf("stale delete: %d %s", status, raw)
	}
	_, got := s.Do("GET", base+id, s.Token, nil)
	if name := got["data"].(map[string]any)["name"]; name != "Admin one" {
		t.Errorf("stale write changed the document: name %v", name)
	}
}

func TestNumberConflictNamesOtherFlow(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	env := create(t, s, pivotFlow("Sales", "+14155550100"))
	salesID := env["data"].(map[string]any)["id"].(string)

	for _, dialled := range []string{"+14155550100", "4155550100", "1 (415) 555-0100"} {
		status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, pivotFlow("Support", dialled))
		if status != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 400", dialled, status)
		}
		unique := env["data"].(map[string]any)["numbers"].(map[string]any)["unique"].(map[string]any)
		want := "Number +14155550100 exists in callflow " + salesID + " Sales"
		if unique["message"] != want || unique["cause"] != "+14155550100" {
			t.Errorf("%s: conflict %v, want message %q", dialled, unique, want)
		}
	}
	// The same pattern twice is refused too.
	p := map[string]any{"data": map[string]any{"name": "P1", "patterns": []string{`^2\d{3}$`}, "flow": map[string]any{"module": "pivot", "data": map[string]any{"voice_url": "http://x.test/"}}}}
	create(t, s, p)
	p["data"].(map[string]any)["name"] = "P2"
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, p)
	if status != 400 || !strings.Contains(fmt.Sprint(env["data"]), "exists in callflow") {
		t.Errorf("pattern conflict: %d %v", status, env)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	flowsA := "/v2/accounts/" + s.AccountID + "/callflows"
	env := create(t, s, pivotFlow("A's flow", "3000"))
	idA := env["data"].(map[string]any)["id"].(string)

	// A second account with its own key and token.
	status, acct := s.Do("PUT", "/v2/accounts/"+s.AccountID, s.Token, map[string]any{"data": map[string]any{"name": "Other Co"}})
	if status != http.StatusCreated {
		t.Fatalf("create account: %d %v", status, acct)
	}
	b := acct["data"].(map[string]any)
	idB, keyB := b["id"].(string), b["api_key"].(string)
	tokenB := s.SignIn(keyB)
	flowsB := "/v2/accounts/" + idB + "/callflows"

	scenarios := []servertest.APIScenario{
		{Name: "no token", Method: "GET", URL: flowsA, Token: "-", ExpectedStatus: 401, ExpectedContent: []string{`"error":"401"`}},
		{Name: "wrong token", Method: "GET", URL: flowsA, Token: "nope", ExpectedStatus: 401},
		{Name: "no token create changes nothing", Method: "PUT", URL: flowsA, Token: "-", Body: pivotFlow("x", "3001"), ExpectedStatus: 401},
		{Name: "no token delete", Method: "DELETE", URL: flowsA + "/" + idA, Token: "-", ExpectedStatus: 401},
		{Name: "wrong api key", Method: "PUT", URL: "/v2/api_auth", Token: "-", Body: map[string]any{"data": map[string]any{"api_key": "wrong"}}, ExpectedStatus: 401},
		{Name: "api key missing", Method: "PUT", URL: "/v2/api_auth", Token: "-", Body: map[string]any{"data": map[string]any{}}, ExpectedStatus: 400, ExpectedContent: []string{`"api_key"`}},
		{Name: "B cannot list A", Method: "GET", URL: flowsA, Token: tokenB, ExpectedStatus: 403, NotExpectedContent: []string{idA}},
		{Name: "B cannot read A's flow", Method: "GET", URL: flowsA + "/" + idA, Token: tokenB, ExpectedStatus: 403, NotExpectedContent: []string{"A's flow"}},
		{Name: "B cannot delete A's flow", Method: "DELETE", URL: flowsA + "/" + idA, Token: tokenB, ExpectedStatus: 403},
		{Name: "B cannot reach A's flow through its own account", Method: "GET", URL: flowsB + "/" + idA, Token: tokenB, ExpectedStatus: 404},
		{Name: "B sees only its own (empty) list", Method: "GET", URL: flowsB, Token: tokenB, ExpectedStatus: 200, NotExpectedContent: []string{idA}},
		{Name: "A cannot read B", Method: "GET", URL: flowsB, ExpectedStatus: 403},
	}
	for _, sc := range scenarios {
		sc.Test(t, s)
	}
	// A's flow survived every refused request; nothing was created.
	_, list := s.Do("GET", flowsA, s.Token, nil)
	if items := list["data"].([]any); len(items) != 1 {
		t.Errorf("A has %d flows after refused requests, want 1", len(items))
	}
	// B's number space is its own: B may use A's number.
	if status, env := s.Do("PUT", flowsB, tokenB, pivotFlow("B main", "3000")); status != 201 {
		t.Errorf("B using A's number: %d %v", status, env)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	flows := "/v2/accounts/{account}/callflows"
	big := `{"data":{"name":"` + strings.Repeat("x", 2<<20) + `"}}`
	scenarios := []servertest.APIScenario{
		{Name: "invalid JSON", Method: "PUT", URL: flows, Body: `{"data": {`, ExpectedStatus: 400, ExpectedContent: []string{`"data"`, `"json"`}},
		{Name: "empty body", Method: "PUT", URL: flows, Body: ``, ExpectedStatus: 400, ExpectedContent: []string{`"required"`}},
		{Name: "not an object", Method: "PUT", URL: flows, Body: `[1,2]`, ExpectedStatus: 400},
		{Name: "data missing", Method: "PUT", URL: flows, Body: `{"name":"x"}`, ExpectedStatus: 400, ExpectedContent: []string{`"data":{"required"`}},
		{Name: "data not an object", Method: "PUT", URL: flows, Body: `{"data":"x"}`, ExpectedStatus: 400, ExpectedContent: []string{`"type"`}},
		{Name: "numbers wrong type", Method: "PUT", URL: flows, Body: `{"data":{"numbers":"1000","flow":{"module":"pivot","data":{"voice_url":"http://a.test"}}}}`, ExpectedStatus: 400, ExpectedContent: []string{`"numbers":{"type"`}},
		{Name: "unknown module named by path", Method: "PUT", URL: flows, Body: `{"data":{"numbers":["1"],"flow":{"module":"pivot","data":{"voice_url":"http://a.test"},"children":{"_":{"module":"nope","data":{}}}}}}`, ExpectedStatus: 400, ExpectedContent: []string{`flow.children._.module`, `nope`}},
		{Name: "pivot url missing", Method: "PUT", URL: flows, Body: `{"data":{"numbers":["1"],"flow":{"module":"pivot","data":{}}}}`, ExpectedStatus: 400, ExpectedContent: []string{`flow.data.voice_url`, `required`}},
		{Name: "pivot url not http", Method: "PUT", URL: flows, Body: `{"data":{"numbers":["1"],"flow":{"module":"pivot","data":{"voice_url":"ftp://x"}}}}`, ExpectedStatus: 400, ExpectedContent: []string{`flow.data.voice_url`, `pattern`}},
		{Name: "body too large", Method: "PUT", URL: flows, Body: big, ExpectedStatus: 400, ExpectedContent: []string{`too large`}},
		{Name: "bad page size", Method: "GET", URL: flows + "?page_size=abc", ExpectedStatus: 400, ExpectedContent: []string{`page_size`}},
		{Name: "bad start key", Method: "GET", URL: flows + "?start_key=!!", ExpectedStatus: 400, ExpectedContent: []string{`start_key`}},
		{Name: "unknown flow", Method: "GET", URL: flows + "/nope", ExpectedStatus: 404},
		{Name: "unknown path", Method: "GET", URL: "/v2/nothing", Token: "-", ExpectedStatus: 404, ExpectedContent: []string{`"status":"error"`}},
	}
	for _, sc := range scenarios {
		sc.Test(t, s)
	}
	_, list := s.Do("GET", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, nil)
	if n := len(list["data"].([]any)); n != 0 {
		t.Errorf("bad requests stored %d flows", n)
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	want := map[string]bool{}
	for i := range 23 {
		env := create(t, s, pivotFlow(fmt.Sprintf("flow %02d", i), fmt.Sprint(5000+i)))
		want[env["data"].(map[string]any)["id"].(string)] = true
	}
	seen := map[string]bool{}
	path := "/v2/accounts/" + s.AccountID + "/callflows?page_size=10"
	var sizes []int
	for next := ""; ; {
		p := path
		if next != "" {
			p += "&start_key=" + next
		}
		status, env := s.Do("GET", p, s.Token, nil)
		if status != 200 {
			t.Fatalf("list: %d %v", status, env)
		}
		items := env["data"].([]any)
		sizes = append(sizes, len(items))
		for _, it := range items {
			m := it.(map[string]any)
			if seen[m["id"].(string)] {
				t.Errorf("id %v listed twice", m["id"])
			}
			seen[m["id"].(string)] = true
			if fmt.Sprint(m["modules"]) != "[pivot]" {
				t.Errorf("modules %v", m["modules"])
			}
		}
		n, _ := env["next_start_key"].(string)
		if n == "" {
			break
		}
		next = n
	}
	if fmt.Sprint(sizes) != "[10 10 3]" || len(seen) != len(want) {
		t.Errorf("pages %v, saw %d of %d", sizes, len(seen), len(want))
	}
	_, all := s.Do("GET", "/v2/accounts/"+s.AccountID+"/callflows?paginate=false", s.Token, nil)
	if n := len(all["data"].([]any)); n != 23 {
		t.Errorf("paginate=false gave %d", n)
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	status, env := s.Do("GET", "/v2/accounts/"+s.AccountID+"/callflows/actions", s.Token, nil)
	if status != 200 {
		t.Fatalf("catalog: %d", status)
	}
	var pivot map[string]any
	for _, it := range env["data"].([]any) {
		if m := it.(map[string]any); m["name"] == "pivot" {
			pivot = m
		}
	}
	if pivot == nil || pivot["group"] != "Advanced" || pivot["label"] != "Pivot" || pivot["terminal"] != false {
		t.Fatalf("pivot entry: %v", pivot)
	}
	schema := pivot["schema"].(map[string]any)
	if req := fmt.Sprint(schema["required"]); req != "[voice_url]" {
		t.Errorf("schema required %v", req)
	}
}

func TestRestartKeepsDocuments(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	var ids []string
	for i := range 5 {
		env := create(t, s, pivotFlow(fmt.Sprint("keep ", i), fmt.Sprint(7000+i)))
		ids = append(ids, env["data"].(map[string]any)["id"].(string))
	}
	s.Restart()
	for i, id := range ids {
		status, env := s.Do("GET", "/v2/accounts/"+s.AccountID+"/callflows/"+id, s.Token, nil)
		if status != 200 || env["data"].(map[string]any)["name"] != fmt.Sprint("keep ", i) {
			t.Errorf("after restart %s: %d %v", id, status, env)
		}
		m, ok := s.Router().Route(s.AccountID, fmt.Sprint(7000+i))
		if !ok || m.CallflowID != id {
			t.Errorf("router after restart: %v %v", m, ok)
		}
	}
}

func TestRouterFollowsWrites(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	base := "/v2/accounts/" + s.AccountID + "/callflows"
	env := create(t, s, pivotFlow("R", "4155550199"))
	id := env["data"].(map[string]any)["id"].(string)
	if m, ok := s.Router().Route(s.AccountID, "+1 415 555 0199"); !ok || m.CallflowID != id {
		t.Fatalf("route after create: %v %v", m, ok)
	}
	s.Do("POST", base+"/"+id, s.Token, pivotFlow("R", "8000"))
	if _, ok := s.Router().Route(s.AccountID, "4155550199"); ok {
		t.Error("old number still routed after update")
	}
	if m, ok := s.Router().Route(s.AccountID, "8000"); !ok || m.CallflowID != id {
		t.Error("new number not routed after update")
	}
	s.Do("DELETE", base+"/"+id, s.Token, nil)
	if _, ok := s.Router().Route(s.AccountID, "8000"); ok {
		t.Error("routed after delete")
	}
}

func TestConcurrentSavesOfOneNumber(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for i := range 8 {
		wg.Go(func() {
			status, _ := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, pivotFlow(fmt.Sprint("racer ", i), "9999"))
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for st := range statuses {
		if st == 201 {
			ok++
		} else if st != 400 {
			t.Errorf("status %d", st)
		}
	}
	if ok != 1 {
		t.Errorf("%d saves took number 9999, want exactly 1", ok)
	}
}
