package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

// kazooAccount is an account document as Kazoo's GET shows one, with the
// keys Switchboard keeps besides name and music_on_hold.
func kazooAccount(name string) map[string]any {
	return map[string]any{
		"name":              name,
		"timezone":          "America/New_York",
		"language":          "en-us",
		"realm":             "b.sip.example.com",
		"caller_id":         map[string]any{"external": map[string]any{"name": "B Corp", "number": "+14155550100"}, "emergency": map[string]any{"number": "+14155550199"}},
		"caller_id_options": map[string]any{"outbound_privacy": "none"},
		"call_restriction":  map[string]any{"caribbean": map[string]any{"action": "deny"}, "tollfree_us": map[string]any{"action": "inherit"}},
		"notifications":     map[string]any{"low_balance": map[string]any{"enabled": true, "threshold": 5.5}},
		"ringtones":         map[string]any{"internal": "<http://example.com/ring.wav>"},
		"enabled":           true,
		"custom_field":      map[string]any{"crm_id": 42, "tags": []any{"vip", "west"}},
	}
}

// TestAccountSettings: the keys of a Kazoo account document that are not
// Switchboard's own (timezone, caller_id, call_restriction …) are kept:
// POST stores them as given, GET shows them (after a restart too), a POST
// without them removes them (Kazoo's full replace), PATCH merges (objects
// key by key, null removes), PUT of a new account takes them. A wrong type
// is a 400 naming the field in Kazoo's envelope, with nothing changed;
// private keys and oversized settings are refused.
func TestAccountSettings(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	b, tokenB := s.AddAccount("Tenant B")
	get := func() map[string]any {
		t.Helper()
		st, env := s.Do("GET", "/v2/accounts/"+b, tokenB, nil)
		if st != http.StatusOK {
			t.Fatalf("get: %d %v", st, env)
		}
		return env["data"].(map[string]any)
	}
	send := func(method string, data map[string]any) (int, map[string]any) {
		return s.Do(method, "/v2/accounts/"+b, tokenB, map[string]any{"data": data})
	}
	doc := kazooAccount("B Corp")
	st, env := send("POST", doc)
	if st != http.StatusOK {
		t.Fatalf("post a Kazoo document: %d %v", st, env)
	}
	same := func(where string, got map[string]any) {
		t.Helper()
		for k, v := range doc {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v, want %v", where, k, got[k], v)
			}
		}
	}
	same("the POST's answer", env["data"].(map[string]any))
	same("GET", get())
	// Posted back as GET shows it: accepted, nothing changes.
	if st, env := send("POST", get()); st != http.StatusOK {
		t.Errorf("posting back what GET showed: %d %v", st, env)
	}
	s.Restart()
	same("GET after a restart", get())

	for _, tc := range []struct {
		name string
		data map[string]any
		path string
	}{
		{"timezone a number", map[string]any{"timezone": 5}, "timezone"},
		{"an unknown time zone", map[string]any{"timezone": "Mars/Olympus"}, "timezone"},
		{"caller id number too long", map[string]any{"caller_id": map[string]any{"external": map[string]any{"number": strings.Repeat("5", 36)}}}, "caller_id.external.number"},
		{"caller id not an object", map[string]any{"caller_id": "+14155550100"}, "caller_id"},
		{"a restriction action", map[string]any{"call_restriction": map[string]any{"international": map[string]any{"action": "maybe"}}}, "call_restriction.international.action"},
		{"enabled a string", map[string]any{"enabled": "sometimes"}, "enabled"},
		{"a realm with a space", map[string]any{"realm": "a b.example.com"}, "realm"},
		{"a private key", map[string]any{"pvt_enabled": true}, "pvt_enabled"},
		{"a huge key", map[string]any{"notes": strings.Repeat("x", 70<<10)}, "data"},
	} {
		for _, method := range []string{"POST", "PATCH"} {
			data := map[string]any{"name": "Broken"}
			for k, v := range tc.data {
				data[k] = v
			}
			st, env := send(method, data)
			if st != http.StatusBadRequest || env["message"] != "validation failed" {
				t.Errorf("%s %s: %d %v, want 400 validation failed", method, tc.name, st, env)
				continue
			}
			if _, ok := env["data"].(map[string]any)[tc.path]; !ok {
				t.Errorf("%s %s: %v, want the error on %s", method, tc.name, env["data"], tc.path)
			}
		}
	}
	d := get()
	same("after the refusals", d)
	if d["name"] != "B Corp" {
		t.Errorf("a refused write renamed the account: %v", d["name"])
	}

	// PATCH merges: a nested key changes, its siblings stay; null removes.
	st, env = send("PATCH", map[string]any{"caller_id": map[string]any{"external": map[string]any{"name": "B Sales"}}, "language": nil, "org": "B Corporation"})
	if st != http.StatusOK {
		t.Fatalf("patch: %d %v", st, env)
	}
	d = get()
	ext := d["caller_id"].(map[string]any)["external"].(map[string]any)
	if ext["name"] != "B Sales" || ext["number"] != "+14155550100" || d["language"] != nil || d["org"] != "B Corporation" || d["timezone"] != "America/New_York" {
		t.Errorf("after the patch: %v", d)
	}
	if st, env := send("PATCH", map[string]any{"name": "B Renamed"}); st != http.StatusOK || get()["name"] != "B Renamed" || get()["timezone"] != "America/New_York" {
		t.Errorf("patch the name: %d %v", st, env)
	}
	// A full replace without them removes them.
	if st, env := send("POST", map[string]any{"name": "B Corp"}); st != http.StatusOK {
		t.Fatalf("post without settings: %d %v", st, env)
	}
	if d := get(); d["timezone"] != nil || d["caller_id"] != nil || d["custom_field"] != nil {
		t.Errorf("a post without them kept %v", d)
	}
	// A new account takes them when made.
	st, env = s.Do("PUT", "/v2/accounts/"+s.AccountID, s.Token, map[string]any{"data": kazooAccount("New Co")})
	if st != http.StatusCreated || env["data"].(map[string]any)["timezone"] != "America/New_York" {
		t.Fatalf("put a Kazoo document: %d %v", st, env)
	}
	newID := env["data"].(map[string]any)["id"].(string)
	if st, env := s.Do("GET", "/v2/accounts/"+newID, s.Token, nil); st != http.StatusOK || env["data"].(map[string]any)["realm"] != "b.sip.example.com" {
		t.Errorf("the new account: %d %v", st, env)
	}
	if st, env := s.Do("PUT", "/v2/accounts/"+s.AccountID, s.Token, map[string]any{"data": map[string]any{"name": "Bad", "timezone": "nowhere"}}); st != http.StatusBadRequest {
		t.Errorf("put with a bad timezone: %d %v", st, env)
	}
}

// TestAccountSettingsWall: one account's settings are its own. A tenant
// cannot read, replace or patch its parent's or a sibling's (403, nothing
// changed), sees none of theirs in its own document, and cannot set what
// is the operator's (egress_allow, is_reseller) through them.
func TestAccountSettingsWall(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	b, tokenB := s.AddAccount("Tenant B")
	c, tokenC := s.AddAccount("Tenant C")
	if st, env := s.Do("POST", "/v2/accounts/"+c, tokenC, map[string]any{"data": kazooAccount("C Corp")}); st != http.StatusOK {
		t.Fatalf("C posts its own: %d %v", st, env)
	}
	if st, env := s.Do("PATCH", "/v2/accounts/"+s.AccountID, s.Token, map[string]any{"data": map[string]any{"timezone": "Europe/Paris"}}); st != http.StatusOK {
		t.Fatalf("the operator patches its own: %d %v", st, env)
	}
	for _, target := range []string{c, s.AccountID} {
		for _, tc := range []struct{ method, body string }{
			{"GET", ""},
			{"POST", `{"data": {"name": "Mine", "timezone": "Asia/Tokyo"}}`},
			{"PATCH", `{"data": {"timezone": "Asia/Tokyo"}}`},
		} {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			st, raw := s.DoRaw(tc.method, "/v2/accounts/"+target, tokenB, body, nil)
			env := string(raw)
			if st != http.StatusForbidden && st != http.StatusNotFound {
				t.Errorf("B %s %s: %d %s, want 403 or 404", tc.method, target, st, env)
			}
			if strings.Contains(env, "Europe/Paris") || strings.Contains(env, "America/New_York") {
				t.Errorf("B %s %s read another account's settings: %s", tc.method, target, env)
			}
		}
	}
	if _, env := s.Do("GET", "/v2/accounts/"+c, tokenC, nil); env["data"].(map[string]any)["timezone"] != "America/New_York" {
		t.Errorf("C's settings after B's tries: %v", env["data"])
	}
	if _, env := s.Do("GET", "/v2/accounts/"+s.AccountID, s.Token, nil); env["data"].(map[string]any)["timezone"] != "Europe/Paris" {
		t.Errorf("the operator's settings after B's tries: %v", env["data"])
	}
	if _, env := s.Do("GET", "/v2/accounts/"+b, tokenB, nil); env["data"].(map[string]any)["timezone"] != nil {
		t.Errorf("B sees a timezone it never set: %v", env["data"])
	}
	// The operator's keys stay the operator's.
	if st, env := s.Do("PATCH", "/v2/accounts/"+b, tokenB, map[string]any{"data": map[string]any{"egress_allow": []string{"10.0.0.0/8"}, "timezone": "Asia/Tokyo"}}); st != http.StatusForbidden {
		t.Errorf("B patches egress_allow: %d %v, want 403", st, env)
	}
	if st, env := s.Do("POST", "/v2/accounts/"+b, tokenB, map[string]any{"data": map[string]any{"name": "B", "is_reseller": true}}); st != http.StatusOK {
		t.Errorf("B posts is_reseller back: %d %v", st, env)
	}
	_, env := s.Do("GET", "/v2/accounts/"+b, tokenB, nil)
	if d := env["data"].(map[string]any); d["is_reseller"] != false || d["timezone"] != nil {
		t.Errorf("B after posting is_reseller and a refused patch: %v", d)
	}
}

// TestAccountTimezoneRoutes: a temporal route whose rules and block name no
// timezone reads the time in the account's (Kazoo's account timezone), as
// soon as it is set, and in UTC again once it is removed.
func TestAccountTimezoneRoutes(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	b, tokenB := s.AddAccount("Tenant B")
	base := "/v2/accounts/" + b
	st, env := s.Do("PUT", base+"/temporal_rules", tokenB, map[string]any{"data": map[string]any{
		"name": "Office hours", "cycle": "weekly", "wdays": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
		"time_window_start": 32400, "time_window_stop": 61200}})
	if st != http.StatusCreated {
		t.Fatalf("rule: %d %v", st, env)
	}
	rule := env["data"].(map[string]any)["id"].(string)
	tts := func(text string) map[string]any {
		return map[string]any{"module": "tts", "data": map[string]any{"text": text}}
	}
	if st, env := s.Do("PUT", base+"/callflows", tokenB, map[string]any{"data": map[string]any{"numbers": []string{"5100"}, "flow": map[string]any{
		"module": "temporal_route", "data": map[string]any{"rules": []string{rule}},
		"children": map[string]any{rule: tts("Open."), "_": tts("Closed.")}}}}); st != http.StatusCreated {
		t.Fatalf("flow: %d %v", st, env)
	}
	// 10:00 in Tokyo on a Tuesday is 01:00 UTC: closed in UTC, open in Tokyo.
	said := func() (string, string) {
		t.Helper()
		st, env := s.Do("POST", base+"/simulate", tokenB, map[string]any{"data": map[string]any{"to": "5100", "at": "2025-06-03T10:00:00+09:00"}})
		if st != http.StatusOK {
			t.Fatalf("simulate: %d %v", st, env)
		}
		text, zone := "", ""
		for _, e := range env["data"].(map[string]any)["trace"].([]any) {
			ev := e.(map[string]any)
			if ev["op"] == "say" {
				text, _ = ev["text"].(string)
			}
			if z, ok := ev["timezone"].(string); ok {
				zone = z
			}
		}
		return text, zone
	}
	if text, zone := said(); text != "Closed." || zone != "UTC" {
		t.Errorf("without an account timezone: %q in %q, want Closed. in UTC", text, zone)
	}
	if st, env := s.Do("PATCH", base, tokenB, map[string]any{"data": map[string]any{"timezone": "Asia/Tokyo"}}); st != http.StatusOK {
		t.Fatalf("patch: %d %v", st, env)
	}
	if text, zone := said(); text != "Open." || zone != "Asia/Tokyo" {
		t.Errorf("with the account in Tokyo: %q in %q, want Open. in Asia/Tokyo", text, zone)
	}
	if st, env := s.Do("PATCH", base, tokenB, map[string]any{"data": map[string]any{"timezone": nil}}); st != http.StatusOK {
		t.Fatalf("patch: %d %v", st, env)
	}
	if text, zone := said(); text != "Closed." || zone != "UTC" {
		t.Errorf("after removing it: %q in %q, want Closed. in UTC", text, zone)
	}
}
