package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

func data(v map[string]any) map[string]any { return map[string]any{"data": v} }

// errorAt reports whether an error answer names rule at path.
func errorAt(env map[string]any, path, rule string) bool {
	d, _ := env["data"].(map[string]any)
	rules, _ := d[path].(map[string]any)
	_, ok := rules[rule]
	return ok
}

func TestTemporalRulesCRUD(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	base := "/v2/accounts/" + s.AccountID + "/temporal_rules"
	office := map[string]any{"name": "Office hours", "cycle": "weekly", "wdays": []string{"monday", "friday"},
		"time_window_start": 32400, "time_window_stop": 61200, "timezone": "Europe/Paris", "x_custom": "kept"}

	status, env := s.Do("PUT", base, s.Token, data(office))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, env)
	}
	doc := env["data"].(map[string]any)
	id := doc["id"].(string)
	rev := env["revision"].(string)
	if doc["interval"] != 1.0 || doc["start_date"] != 62586115200.0 || doc["end_date"] != 0.0 || doc["x_custom"] != "kept" {
		t.Errorf("defaults or unknown keys: %v", doc)
	}

	status, env = s.Do("GET", base+"/"+id, s.Token, nil)
	if status != 200 || env["revision"] != rev || env["data"].(map[string]any)["name"] != "Office hours" {
		t.Errorf("get: %d %v", status, env)
	}
	status, env = s.Do("GET", base, s.Token, nil)
	list, _ := env["data"].([]any)
	if status != 200 || len(list) != 1 || list[0].(map[string]any)["cycle"] != "weekly" {
		t.Errorf("list: %d %v", status, env)
	}

	office["name"] = "Office"
	upd := data(office)
	upd["revision"] = rev
	if status, env = s.Do("POST", base+"/"+id, s.Token, upd); status != 200 || !strings.HasPrefix(env["revision"].(string), "2-") {
		t.Fatalf("update: %d %v", status, env)
	}
	if status, _ = s.Do("POST", base+"/"+id, s.Token, upd); status != http.StatusConflict {
		t.Errorf("stale update: %d", status)
	}
	status, env = s.Do("PATCH", base+"/"+id, s.Token, data(map[string]any{"time_window_stop": 64800, "x_custom": nil}))
	if d := env["data"].(map[string]any); status != 200 || d["time_window_stop"] != 64800.0 || d["x_custom"] != nil || d["name"] != "Office" {
		t.Errorf("patch: %d %v", status, env)
	}
	if status, env = s.Do("PATCH", base+"/"+id, s.Token, data(map[string]any{"time_window_stop": 90000})); status != 400 || !errorAt(env, "time_window_stop", "maximum") {
		t.Errorf("patch to an impossible time: %d %v", status, env)
	}

	// Sets, naming rules that exist.
	sets := "/v2/accounts/" + s.AccountID + "/temporal_rules_sets"
	status, env = s.Do("PUT", sets, s.Token, data(map[string]any{"name": "Week", "temporal_rules": []string{id, "nope"}}))
	if status != 400 || !errorAt(env, "temporal_rules.1", "exists") {
		t.Errorf("set with an unknown rule: %d %v", status, env)
	}
	status, env = s.Do("PUT", sets, s.Token, data(map[string]any{"name": "Week", "temporal_rules": []string{id}}))
	if status != 201 {
		t.Fatalf("create set: %d %v", status, env)
	}
	setID := env["data"].(map[string]any)["id"].(string)
	if status, _ = s.Do("GET", base+"/"+setID, s.Token, nil); status != 404 {
		t.Errorf("a set read as a rule: %d", status)
	}
	if status, _ = s.Do("GET", sets+"/"+setID, s.Token, nil); status != 200 {
		t.Errorf("get set: %d", status)
	}
	if status, _ = s.Do("DELETE", sets+"/"+setID, s.Token, nil); status != 200 {
		t.Errorf("delete set: %d", status)
	}
	if status, _ = s.Do("DELETE", base+"/"+id, s.Token, nil); status != 200 {
		t.Errorf("delete rule: %d", status)
	}
	if status, _ = s.Do("GET", base+"/"+id, s.Token, nil); status != 404 {
		t.Errorf("deleted rule: %d", status)
	}
}

func TestTemporalRulesRefused(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	for _, sc := range []struct {
		name string
		body map[string]any
		path string
		rule string
	}{
		{"window past the day", map[string]any{"name": "x", "cycle": "daily", "time_window_start": 90000}, "time_window_start", "maximum"},
		{"month 13", map[string]any{"name": "x", "cycle": "yearly", "month": 13, "days": []int{1}}, "month", "maximum"},
		{"day 32", map[string]any{"name": "x", "cycle": "monthly", "days": []int{32}}, "days.0", "maximum"},
		{"31 april", map[string]any{"name": "x", "cycle": "yearly", "month": 4, "days": []int{31}}, "days.0", "maximum"},
		{"unknown weekday", map[string]any{"name": "x", "cycle": "weekly", "wdays": []string{"caturday"}}, "wdays.0", "enum"},
		{"no name", map[string]any{"cycle": "daily"}, "name", "required"},
		{"unknown zone", map[string]any{"name": "x", "cycle": "daily", "timezone": "Nowhere/Town"}, "timezone", "enum"},
	} {
		status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/temporal_rules", s.Token, data(sc.body))
		if status != 400 || env["message"] != "validation failed" || !errorAt(env, sc.path, sc.rule) {
			t.Errorf("%s: %d %v", sc.name, status, env)
		}
	}
}

// TestTimeOfDayCall routes simulated calls at set times through stored
// rules, then forces a rule on with a feature-code flow.
func TestTimeOfDayCall(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	acct := "/v2/accounts/" + s.AccountID
	_, env := s.Do("PUT", acct+"/temporal_rules", s.Token, data(map[string]any{"name": "Office hours", "cycle": "weekly",
		"wdays": []string{"monday", "tuesday", "wednesday", "thursday", "friday"}, "time_window_start": 32400, "time_window_stop": 61200}))
	office := env["data"].(map[string]any)["id"].(string)
	_, env = s.Do("PUT", acct+"/temporal_rules", s.Token, data(map[string]any{"name": "Christmas", "cycle": "yearly", "month": 12, "days": []int{25}}))
	christmas := env["data"].(map[string]any)["id"].(string)
	_, env = s.Do("PUT", acct+"/temporal_rules_sets", s.Token, data(map[string]any{"name": "Holidays", "temporal_rules": []string{christmas}}))
	holidays := env["data"].(map[string]any)["id"].(string)

	tts := func(text string) map[string]any {
		return map[string]any{"module": "tts", "data": map[string]any{"text": text}}
	}
	flow := map[string]any{"numbers": []string{"5000"}, "flow": map[string]any{
		"module": "temporal_route", "data": map[string]any{"timezone": "Europe/Paris", "rules": []string{holidays, office}},
		"children": map[string]any{holidays: tts("Closed for the holiday."), office: tts("Open."), "_": tts("Closed.")},
	}}
	if status, env := s.Do("PUT", acct+"/callflows", s.Token, data(flow)); status != 201 {
		t.Fatalf("flow: %d %v", status, env)
	}
	override := map[string]any{"numbers": []string{"*701"}, "flow": map[string]any{
		"module": "temporal_route", "data": map[string]any{"action": "enable", "rules": []string{office}}}}
	if status, env := s.Do("PUT", acct+"/callflows", s.Token, data(override)); status != 201 {
		t.Fatalf("override flow: %d %v", status, env)
	}

	said := func(at string) string {
		t.Helper()
		status, env := s.Do("POST", acct+"/simulate", s.Token, data(map[string]any{"to": "5000", "at": at}))
		if status != 200 {
			t.Fatalf("simulate at %s: %d %v", at, status, env)
		}
		for _, l := range env["data"].(map[string]any)["trace"].([]any) {
			if line := l.(map[string]any); line["op"] == "say" {
				return line["text"].(string)
			}
		}
		return ""
	}
	for at, want := range map[string]string{
		"2025-06-03T10:00:00+02:00": "Open.",
		"2025-06-03T20:00:00+02:00": "Closed.",
		"2025-06-07T10:00:00+02:00": "Closed.",
		"2025-12-25T10:00:00+01:00": "Closed for the holiday.",
		"2025-06-03T08:30:00Z":      "Open.", // 10:30 in Paris
	} {
		if got := said(at); got != want {
			t.Errorf("at %s: said %q, want %q", at, got, want)
		}
	}

	if status, env := s.Do("POST", acct+"/simulate", s.Token, data(map[string]any{"to": "*701"})); status != 200 {
		t.Fatalf("override call: %d %v", status, env)
	}
	_, env = s.Do("GET", acct+"/temporal_rules/"+office, s.Token, nil)
	if env["data"].(map[string]any)["enabled"] != true {
		t.Errorf("override not stored: %v", env["data"])
	}
	if got := said("2025-06-07T10:00:00+02:00"); got != "Open." {
		t.Errorf("forced on, saturday: %q", got)
	}

	if status, env := s.Do("POST", acct+"/simulate", s.Token, data(map[string]any{"to": "5000", "at": "tomorrow"})); status != 400 || !errorAt(env, "at", "format") {
		t.Errorf("bad at: %d %v", status, env)
	}
}

// TestMenuThroughServer: a menu without children is refused on save with
// its path; dial-by-extension finds another flow of the account.
func TestMenuThroughServer(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	acct := "/v2/accounts/" + s.AccountID
	status, env := s.Do("PUT", acct+"/callflows", s.Token, data(map[string]any{"numbers": []string{"6000"},
		"flow": map[string]any{"module": "tts", "data": map[string]any{"text": "Hi."}, "children": map[string]any{
			"_": map[string]any{"module": "menu", "data": map[string]any{}}}}}))
	if status != 400 || !errorAt(env, "flow.children._.children", "minProperties") {
		t.Fatalf("menu without children: %d %v", status, env)
	}

	ext := map[string]any{"numbers": []string{"1001"}, "flow": map[string]any{"module": "tts", "data": map[string]any{"text": "Extension 1001."}}}
	status, env = s.Do("PUT", acct+"/callflows", s.Token, data(ext))
	if status != 201 {
		t.Fatalf("extension: %d %v", status, env)
	}
	extID := env["data"].(map[string]any)["id"].(string)
	menu := map[string]any{"numbers": []string{"6000"}, "flow": map[string]any{
		"module": "menu", "data": map[string]any{"hunt": true, "prompts": map[string]any{"greeting": "Dial an extension."}},
		"children": map[string]any{"1": map[string]any{"module": "tts", "data": map[string]any{"text": "Sales."}}},
	}}
	if status, env = s.Do("PUT", acct+"/callflows", s.Token, data(menu)); status != 201 {
		t.Fatalf("menu: %d %v", status, env)
	}
	status, env = s.Do("POST", acct+"/simulate", s.Token, data(map[string]any{"to": "6000", "inputs": []string{"1001"}}))
	if status != 200 {
		t.Fatalf("simulate: %d %v", status, env)
	}
	var route map[string]any
	var said []string
	for _, l := range env["data"].(map[string]any)["trace"].([]any) {
		line := l.(map[string]any)
		if line["op"] == "route" && line["module"] == "menu" {
			route = line
		}
		if line["op"] == "say" {
			said = append(said, line["text"].(string))
		}
	}
	if route == nil || route["callflow_id"] != extID || route["number"] != "1001" {
		t.Errorf("hunt route %v", route)
	}
	if len(said) == 0 || said[len(said)-1] != "Extension 1001." {
		t.Errorf("said %q", said)
	}
}
