package actions_test

import (
	"testing"
)

func TestSetVariableThenBranch(t *testing.T) {
	branch := func(value string) string {
		return `{"module":"set_variable","data":{"variable":"department","value":"` + value + `"},"children":{"_":
			{"module":"branch_variable","data":{"variable":"department"},"children":{
				"sales":{"module":"tts","data":{"text":"Sales."}},
				"support":{"module":"tts","data":{"text":"Support."}},
				"_":{"module":"tts","data":{"text":"Anyone."}}}}}}`
	}
	for _, tc := range []struct {
		value, key, said string
	}{
		{"sales", "sales", "Sales."},
		{"support", "support", "Support."},
		{"billing", "billing", "Anyone."}, // no such child: the engine takes _
		{"", "_", "Anyone."},
	} {
		c := catRun(t, branch(tc.value), catOpts{})
		set := c.Find("set")
		if len(set) != 1 || set[0]["key"] != "department" || set[0]["value"] != tc.value {
			t.Errorf("set lines %v", set)
		}
		b := c.Find("branch")
		if len(b) != 1 || b[0]["key"] != tc.key || b[0]["variable"] != "department" || b[0]["value"] != tc.value {
			t.Errorf("value %q: branch lines %v", tc.value, b)
		}
		wantEqual(t, "said", c.Said(), []string{tc.said})
	}
}

func TestBranchVariableUnsetAndBuiltins(t *testing.T) {
	flow := func(variable string, keys ...string) string {
		children := `"_":{"module":"tts","data":{"text":"default"}}`
		for _, k := range keys {
			children += `,"` + k + `":{"module":"tts","data":{"text":"` + k + `"}}`
		}
		return `{"module":"branch_variable","data":{"variable":"` + variable + `"},"children":{` + children + `}}`
	}
	wantEqual(t, "unset", catRun(t, flow("nothing", "x"), catOpts{}).Said(), []string{"default"})
	wantEqual(t, "caller number", catRun(t, flow("caller_id_number", "+15555550123"), catOpts{from: "+15555550123"}).Said(), []string{"+15555550123"})
	lang := `{"module":"language","data":{"language":"de-DE"},"children":{"_":` + flow("language", "de-DE") + `}}`
	wantEqual(t, "language", catRun(t, lang, catOpts{}).Said(), []string{"de-DE"})
	cid := `{"module":"set_cid","data":{"caller_id_name":"Front desk"},"children":{"_":` + flow("caller_id_name", "Front desk") + `}}`
	wantEqual(t, "caller name after set_cid", catRun(t, cid, catOpts{name: "Alice"}).Said(), []string{"Front desk"})
}

func TestLanguage(t *testing.T) {
	flow := `{"module":"language","data":{"language":"fr-FR"},"children":{"_":
		{"module":"tts","data":{"text":"Bonjour."},"children":{"_":
		{"module":"tts","data":{"text":"Hello.","language":"en-GB"}}}}}}`
	c := catRun(t, flow, catOpts{})
	set := c.Find("set")
	if len(set) != 1 || set[0]["key"] != "language" || set[0]["value"] != "fr-FR" {
		t.Errorf("set lines %v", set)
	}
	says := c.Find("say")
	wantEqual(t, "languages", []any{says[0]["language"], says[1]["language"]}, []any{"fr-FR", "en-GB"})
	wantEqual(t, "without the block", catRun(t, `{"module":"tts","data":{"text":"Hi."}}`, catOpts{}).Find("say")[0]["language"], any("en-US"))
}
