package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
)

// TestReferencesCannotDangle: a flow naming a missing document is refused
// with the node's path and the id; a document flows use is not deleted
// (409 listing them) unless forced; …/references says who uses it.
func TestReferencesCannotDangle(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "a menu", Method: "PUT", URL: "/v2/accounts/{account}/menus", Body: data(map[string]any{"name": "Main menu"}),
			ExpectedStatus: 201, Capture: map[string]string{"menu": "data.id"}},
		{Name: "a media", Method: "PUT", URL: "/v2/accounts/{account}/media", Body: data(map[string]any{"name": "Hello", "media_source": "tts"}),
			ExpectedStatus: 201, Capture: map[string]string{"media": "data.id"}},
		{Name: "a flow naming a missing menu is refused", Method: "PUT", URL: flows,
			Body: data(map[string]any{"name": "f", "flow": map[string]any{"module": "menu", "data": map[string]any{"id": "nosuchmenu"},
				"children": map[string]any{"1": map[string]any{"module": "play", "data": map[string]any{"id": "nosuchmedia"}}}}}),
			ExpectedStatus: 400,
			ExpectedContent: []string{`"flow.data.id":{"exists"`, `"value":"nosuchmenu"`, `No menu has this id`,
				`"flow.children.1.data.id":{"exists"`, `"value":"nosuchmedia"`}},
		{Name: "a URL in play is no reference", Method: "PUT", URL: flows,
			Body:           data(map[string]any{"name": "url", "flow": map[string]any{"module": "play", "data": map[string]any{"id": "https://media.example.com/a.wav"}}}),
			ExpectedStatus: 201},
		{Name: "a flow naming them is saved", Method: "PUT", URL: flows,
			Body: data(map[string]any{"name": "Uses menu", "numbers": []string{"2000"}, "flow": map[string]any{"module": "menu", "data": map[string]any{"id": "{menu}"},
				"children": map[string]any{"1": map[string]any{"module": "play", "data": map[string]any{"id": "{media}"}}}}}),
			ExpectedStatus: 201, Capture: map[string]string{"flow": "data.id"}},
		{Name: "a menu id of another kind is refused", Method: "PUT", URL: flows,
			Body:           data(map[string]any{"name": "g", "flow": map[string]any{"module": "callflow", "data": map[string]any{"id": "{menu}"}}}),
			ExpectedStatus: 400, ExpectedContent: []string{`"flow.data.id"`, `No callflow has this id`}},
		{Name: "references", Method: "GET", URL: "/v2/accounts/{account}/menus/{menu}/references", ExpectedStatus: 200,
			ExpectedContent: []string{`"id":"{flow}"`, `"kind":"callflows"`, `"path":"flow.data.id"`, `"name":"Uses menu"`}},
		{Name: "deleting the used menu is refused", Method: "DELETE", URL: "/v2/accounts/{account}/menus/{menu}", ExpectedStatus: 409,
			ExpectedContent: []string{`"referrers"`, `"id":"{flow}"`}},
		{Name: "the media too", Method: "DELETE", URL: "/v2/accounts/{account}/media/{media}", ExpectedStatus: 409,
			ExpectedContent: []string{`"path":"flow.children.1.data.id"`}},
		{Name: "force deletes", Method: "DELETE", URL: "/v2/accounts/{account}/menus/{menu}?force=true", ExpectedStatus: 200},
		{Name: "the flow keeps the dangling id", Method: "GET", URL: flows + "/{flow}", ExpectedStatus: 200, ExpectedContent: []string{`"id":"{menu}"`}},
		{Name: "but cannot be saved again as is", Method: "PATCH", URL: flows + "/{flow}", Body: data(map[string]any{"name": "x"}),
			ExpectedStatus: 400, ExpectedContent: []string{`"flow.data.id"`}},
		{Name: "a deleted flow frees its media", Method: "DELETE", URL: flows + "/{flow}", ExpectedStatus: 200},
		{Name: "media deleted", Method: "DELETE", URL: "/v2/accounts/{account}/media/{media}", ExpectedStatus: 200},
	})
}

// TestUniqueKeysNameTheHolder: a SIP username in its realm and a mailbox
// number in the account are taken once; the refusal names the holder.
func TestUniqueKeysNameTheHolder(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	dev := func(name, user string) map[string]any {
		return data(map[string]any{"name": name, "sip": map[string]any{"username": user, "password": "secret-1"}})
	}
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "first device", Method: "PUT", URL: "/v2/accounts/{account}/devices", Body: dev("Desk", "bob"), ExpectedStatus: 201,
			Capture: map[string]string{"dev": "data.id"}, NotExpectedContent: []string{"secret-1", "ha1"}},
		{Name: "same username refused", Method: "PUT", URL: "/v2/accounts/{account}/devices", Body: dev("Other", "bob"), ExpectedStatus: 400,
			ExpectedContent: []string{`"sip.username":{"unique"`, `exists in device {dev} Desk`}},
		{Name: "same username, other realm", Method: "PUT", URL: "/v2/accounts/{account}/devices",
			Body: data(map[string]any{"name": "R", "sip": map[string]any{"username": "bob", "realm": "other.example.com", "password": "secret-2"}}), ExpectedStatus: 201},
		{Name: "the device may keep its own", Method: "PATCH", URL: "/v2/accounts/{account}/devices/{dev}", Body: data(map[string]any{"name": "Desk 2"}), ExpectedStatus: 200,
			NotExpectedContent: []string{"ha1"}},
		{Name: "a mailbox", Method: "PUT", URL: "/v2/accounts/{account}/vmboxes", Body: data(map[string]any{"name": "Box", "mailbox": "100", "pin": "1234"}),
			ExpectedStatus: 201, Capture: map[string]string{"box": "data.id"}, NotExpectedContent: []string{`"pin"`, `"1234"`, "pin_hash"}},
		{Name: "the same mailbox refused", Method: "PUT", URL: "/v2/accounts/{account}/vmboxes", Body: data(map[string]any{"name": "Box 2", "mailbox": "100"}),
			ExpectedStatus: 400, ExpectedContent: []string{`"mailbox":{"unique"`, `exists in voicemail box {box} Box`}},
		{Name: "the PIN is never listed", Method: "GET", URL: "/v2/accounts/{account}/vmboxes", ExpectedStatus: 200, NotExpectedContent: []string{"pin_hash", `"1234"`}},
	})
	// Another account's mailbox 100 is its own.
	other, tok := s.AddAccount("other")
	if status, env := s.Do("PUT", "/v2/accounts/"+other+"/vmboxes", tok, data(map[string]any{"name": "B", "mailbox": "100"})); status != 201 {
		t.Errorf("mailbox 100 in another account: %d %v", status, env)
	}
	// Another account's device with the first one's realm and username is
	// refused without naming the holder.
	status, env := s.Do("PUT", "/v2/accounts/"+other+"/devices", tok, data(map[string]any{"name": "x",
		"sip": map[string]any{"username": "bob", "realm": "other.example.com", "password": "secret-3"}}))
	if b := fmt.Sprint(env); status != 400 || strings.Contains(b, "Desk") || !strings.Contains(b, "is taken") {
		t.Errorf("realm of another account: %d %v", status, env)
	}
}

// TestSourceNetworksBelongToOneAccount: 40 accounts racing for one network
// get one winner; too large a network and the operator's trusted ones are
// refused.
func TestSourceNetworksBelongToOneAccount(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, func(c *server.Config) { c.Trust = []string{"192.0.2.0/24"} })
	type tenant struct{ id, tok string }
	tenants := make([]tenant, 40)
	for i := range tenants {
		tenants[i].id, tenants[i].tok = s.AddAccount(fmt.Sprint("racer ", i))
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     int
		refused int
	)
	for i, tn := range tenants {
		wg.Go(func() {
			status, env := s.Do("PUT", "/v2/accounts/"+tn.id+"/trunks", tn.tok,
				data(map[string]any{"name": fmt.Sprint("t", i), "source_cidrs": []string{fmt.Sprintf("203.0.113.%d", i), "203.0.113.0/24"}}))
			mu.Lock()
			defer mu.Unlock()
			switch status {
			case 201:
				won++
			case 400:
				if !strings.Contains(fmt.Sprint(env), "overlaps") {
					t.Errorf("refusal does not say why: %v", env)
				}
				refused++
			default:
				t.Errorf("status %d: %v", status, env)
			}
		})
	}
	wg.Wait()
	if won != 1 || refused != 39 {
		t.Errorf("%d won, %d refused; want 1 and 39", won, refused)
	}
	for _, tc := range []struct{ cidr, want string }{
		{"0.0.0.0/0", "at most an IPv4 /16"}, {"10.0.0.0/8", "at most an IPv4 /16"}, {"2001:db8::/32", "at most an IPv6 /48"},
		{"192.0.2.7", "trusted"}, {"192.0.0.0/16", "trusted"},
	} {
		status, env := s.Do("PUT", "/v2/accounts/"+tenants[0].id+"/trunks", tenants[0].tok,
			data(map[string]any{"name": "big", "source_cidrs": []string{tc.cidr}}))
		if status != 400 || !strings.Contains(fmt.Sprint(env), tc.want) || !strings.Contains(fmt.Sprint(env), "source_cidrs.0") {
			t.Errorf("%s: %d %v, want 400 saying %q", tc.cidr, status, env, tc.want)
		}
	}
}

// TestExportImportRoundTrip: export → import into a fresh server → export
// is byte-identical, file for file; an import twice changes nothing; a set
// with a dangling reference is refused whole.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	fx := loadFixtures(t)
	var all []document.Entry
	for _, es := range fx.byKind {
		all = append(all, es...)
	}
	one := servertest.New(t)
	importDocs(t, one, one.AccountID, one.Token, all)
	first := exportFiles(t, one)
	docs := 0 // besides them, audio: the tts media spoken on import
	for name := range first {
		if strings.HasSuffix(name, ".json") {
			docs++
		}
	}
	if docs != len(all) {
		t.Fatalf("exported %d documents, want %d", docs, len(all))
	}

	two := servertest.New(t)
	var b document.Bundle
	if status, env := one.Do("GET", "/v2/accounts/"+one.AccountID+"/export", one.Token, nil); status == 200 {
		raw, _ := jsonRoundTrip(env["data"])
		b = raw
	} else {
		t.Fatalf("export: %d %v", status, env)
	}
	status, env := two.Do("POST", "/v2/accounts/"+two.AccountID+"/import?dry_run=true", two.Token, map[string]any{"data": b})
	if status != 200 || strings.Count(fmt.Sprint(env["data"]), "create") != len(all) {
		t.Fatalf("dry run: %d %v", status, env)
	}
	if got := exportFiles(t, two); len(got) != 0 {
		t.Fatalf("a dry run wrote %d documents", len(got))
	}
	importDocs(t, two, two.AccountID, two.Token, b.Documents)
	second := exportFiles(t, two)
	for name, body := range first {
		if !bytes.Equal(second[name], body) {
			t.Errorf("%s differs after the round trip:\n%s\n%s", name, body, second[name])
		}
	}
	if len(second) != len(first) {
		t.Errorf("%d files after the round trip, want %d", len(second), len(first))
	}
	// Applying it again changes nothing.
	status, env = two.Do("POST", "/v2/accounts/"+two.AccountID+"/import", two.Token, map[string]any{"data": b})
	if status != 200 || strings.Contains(fmt.Sprint(env["data"]), "update") || strings.Contains(fmt.Sprint(env["data"]), "create") {
		t.Errorf("second import: %d %v", status, env)
	}
	// A set naming a document that is nowhere is refused, nothing written.
	three := servertest.New(t)
	var partial []document.Entry
	for _, e := range all {
		if e.Kind != "menus" {
			partial = append(partial, e)
		}
	}
	status, env = three.Do("POST", "/v2/accounts/"+three.AccountID+"/import", three.Token, map[string]any{"data": document.Bundle{Documents: partial}})
	if status != 400 || !strings.Contains(fmt.Sprint(env), "No menu has this id") {
		t.Errorf("dangling import: %d %v", status, env)
	}
	if got := exportFiles(t, three); len(got) != 0 {
		t.Errorf("a refused import wrote %d documents", len(got))
	}
	// The zip holds the same files.
	code, raw := one.DoRaw("GET", "/v2/accounts/"+one.AccountID+"/export?format=zip", one.Token, nil, nil)
	if code != 200 || !bytes.HasPrefix(raw, []byte("PK")) {
		t.Errorf("zip export: %d %.40q", code, raw)
	}
}

func jsonRoundTrip(v any) (document.Bundle, error) {
	var b document.Bundle
	raw, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	err = json.Unmarshal(raw, &b)
	return b, err
}

// exportFiles is the tree `switchboard export` writes for the default
// account of s.
func exportFiles(t testing.TB, s *servertest.Server) map[string][]byte {
	t.Helper()
	status, env := s.Do("GET", "/v2/accounts/"+s.AccountID+"/export", s.Token, nil)
	if status != 200 {
		t.Fatalf("export: %d %v", status, env)
	}
	b, err := jsonRoundTrip(env["data"])
	if err != nil {
		t.Fatal(err)
	}
	files, err := b.Files()
	if err != nil {
		t.Fatal(err)
	}
	return files
}
