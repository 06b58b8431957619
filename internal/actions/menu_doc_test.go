package actions_test

import (
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call/sim"
)

// TestMenuDocument: a menu naming a menu document by id takes its settings
// from the document (Kazoo's precedence); inline settings fill what the
// document leaves out; a missing document leaves a warning and the inline
// settings.
func TestMenuDocument(t *testing.T) {
	docs := actionstest.Docs{
		"menus/main": `{"id":"main","name":"Main","retries":1,"timeout":5000,"max_extension_length":2,"hunt":false,
			"media":{"greeting":"greet-1","invalid_media":"oops-1","exit_media":false}}`,
		"menus/short": `{"id":"short","name":"Short","retries":2}`,
	}
	for _, tc := range []struct {
		name     string
		data     string
		inputs   []string
		plays    []string // media ids played, in order
		said     []string
		branches []string
		timeout  float64
		warning  string
	}{
		{
			name: "document settings", data: `"id":"main"`, inputs: []string{"9"},
			plays: []string{"greet-1", "oops-1"}, branches: []string{"max_retries"}, timeout: 5,
		},
		{
			name: "document wins over inline", data: `"id":"main","retries":3,"timeout":9000,"media":{"greeting":"inline"}`, inputs: []string{"1"},
			plays: []string{"greet-1"}, branches: []string{"1"}, timeout: 5,
		},
		{
			name: "inline fills what the document leaves out", data: `"id":"short","timeout":7000,` + greetingData, inputs: []string{"9", "9"},
			said:     []string{"For sales press 1, for support press 2.", "That is not a valid selection.", "For sales press 1, for support press 2.", "That is not a valid selection.", "Sorry, we did not get a valid selection.", "Giving up."},
			branches: []string{"max_retries"}, timeout: 7,
		},
		{
			name: "missing document: inline settings and a warning", data: `"id":"gone","retries":1,` + greetingData, inputs: []string{"1"},
			branches: []string{"1"}, timeout: 10, warning: "menu_not_found",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deps := actionstest.Deps()
			deps.Documents = docs
			c := actionstest.Run(t, actionstest.Flow(t, menuFlow(tc.data, salesChild+","+retriesChild)), actionstest.Options{
				Script: sim.Script{Inputs: tc.inputs}, Deps: deps,
			})
			var plays []string // the gathers' prompts, then the plays
			for _, g := range c.Find("gather") {
				for _, p := range g["prompts"].([]map[string]any) {
					if id, ok := p["media_id"].(string); ok {
						plays = append(plays, id)
					}
				}
			}
			for _, p := range c.Find("play") {
				if id, ok := p["media_id"].(string); ok {
					plays = append(plays, id)
				}
			}
			wantEqual(t, "media played", plays, tc.plays)
			if tc.said != nil {
				wantEqual(t, "said", c.Said(), tc.said)
			}
			wantEqual(t, "branches", c.Branches(), tc.branches)
			wantEqual(t, "timeout", c.Find("gather")[0]["timeout"], any(tc.timeout))
			var warn string
			if w := c.Find("warning"); len(w) > 0 {
				warn, _ = w[0]["code"].(string)
			}
			wantEqual(t, "warning", warn, tc.warning)
		})
	}
}

// TestMenuDocumentLongOptions: a menu naming a document may have options
// longer than the default four keys: the document's max_extension_length,
// read at call time, decides.
func TestMenuDocumentLongOptions(t *testing.T) {
	deps := actionstest.Deps()
	deps.Documents = actionstest.Docs{"menus/long": `{"id":"long","name":"Long","max_extension_length":6,"hunt":false}`}
	c := actionstest.Run(t, actionstest.Flow(t, menuFlow(`"id":"long"`, `"123456":{"module":"tts","data":{"text":"Six."}}`)), actionstest.Options{
		Script: sim.Script{Inputs: []string{"123456"}}, Deps: deps,
	})
	wantEqual(t, "branches", c.Branches(), []string{"123456"})
}
