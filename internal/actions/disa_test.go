package actions_test

import (
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
)

func disaFlow(data string, children string) string {
	if children == "" {
		children = `"_":{"module":"tts","data":{"text":"Fallback."}}`
	}
	return `{"module":"disa","data":{` + data + `},"children":{` + children + `}}`
}

func TestDISA(t *testing.T) {
	pin := `"pin":"4321"`
	for _, tc := range []struct {
		name     string
		flow     string
		inputs   []string
		dials    []string
		said     []string
		dialled  string // the target of the dial line; "" for none
		branches []string
		by       string
	}{
		{
			name: "pin then number", flow: disaFlow(pin, ""), inputs: []string{"4321#", "4155551234#"},
			said: []string{"Please enter your PIN, then press pound."}, dialled: "+14155551234", by: "switchboard",
		},
		{
			name: "wrong pin, then right", flow: disaFlow(pin, ""), inputs: []string{"1111#", "4321#", "1000#"},
			said:    []string{"Please enter your PIN, then press pound.", "That PIN is not valid.", "Please enter your PIN, then press pound."},
			dialled: "1000", by: "switchboard",
		},
		{
			name: "three wrong pins", flow: disaFlow(pin, ""), inputs: []string{"1#", "2#", ""},
			said: []string{
				"Please enter your PIN, then press pound.", "That PIN is not valid.",
				"Please enter your PIN, then press pound.", "That PIN is not valid.",
				"Please enter your PIN, then press pound.", "That PIN is not valid.",
				"Too many attempts. Goodbye.",
			},
			by: "switchboard",
		},
		{
			name: "no pin", flow: disaFlow(``, ""), inputs: []string{"+442071234567#"},
			dialled: "+442071234567", by: "switchboard",
		},
		{
			name: "no number: _", flow: disaFlow(`"retries":2`, ""), inputs: []string{"", ""},
			said: []string{"We did not get a number.", "Fallback."}, branches: []string{"_"}, by: "switchboard",
		},
		{
			name: "busy: the cause's child", flow: disaFlow(``, `"USER_BUSY":{"module":"tts","data":{"text":"Busy."}},"_":{"module":"tts","data":{"text":"Fallback."}}`),
			inputs: []string{"1000#"}, dials: []string{"busy"},
			said: []string{"Busy."}, dialled: "1000", branches: []string{"USER_BUSY"}, by: "switchboard",
		},
		{
			name: "no answer: _", flow: disaFlow(``, ""), inputs: []string{"1000#"}, dials: []string{"no-answer"},
			said: []string{"Fallback."}, dialled: "1000", branches: []string{"_"}, by: "switchboard",
		},
		{
			name: "caller hangs up at the pin", flow: disaFlow(pin, ""), inputs: []string{"hangup"},
			said: []string{"Please enter your PIN, then press pound."}, by: "caller",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := catRun(t, tc.flow, catOpts{inputs: tc.inputs, dials: tc.dials})
			wantEqual(t, "said", c.Said(), tc.said)
			dials := c.Find("dial")
			switch {
			case tc.dialled == "" && len(dials) != 0:
				t.Errorf("dialled %v", dials)
			case tc.dialled != "":
				if len(dials) != 1 {
					t.Fatalf("dials %v\n%s", dials, c.Trace.JSONL())
				}
				target := dials[0]["targets"].([]map[string]any)[0]
				wantEqual(t, "target", []any{target["kind"], target["value"], dials[0]["caller_id"]}, []any{"number", tc.dialled, "+15555550100"})
			}
			wantEqual(t, "branches", c.Branches(), tc.branches)
			if c.Result.By != tc.by {
				t.Errorf("ended by %q, want %q", c.Result.By, tc.by)
			}
		})
	}
}

func TestDISAPromptsAndRoutes(t *testing.T) {
	t.Run("dial tone, then ringing", func(t *testing.T) {
		for data, want := range map[string]string{``: "tone_stream://%(10000,0,350,440)", `"preconnect_audio":"ringing"`: "tone_stream://%(2000,4000,440,480)"} {
			c := catRun(t, disaFlow(data, ""), catOpts{inputs: []string{"1000#"}})
			g := c.Find("gather")[0]
			p := g["prompts"].([]map[string]any)[0]
			wantEqual(t, "tone", p["url"], any(want))
			wantEqual(t, "max digits", g["num_digits"], any(15))
		}
	})
	t.Run("a number of the account goes on in its flow", func(t *testing.T) {
		numbers := actionstest.Numbers{"1000": `{"module":"tts","data":{"text":"Extension 1000."}}`}
		c := catRun(t, disaFlow(``, ""), catOpts{inputs: []string{"1000#"}, numbers: numbers})
		r := c.Find("route")
		if len(r) != 1 || r[0]["callflow_id"] != "flow-1000" || len(c.Find("dial")) != 0 {
			t.Errorf("routes %v\n%s", r, c.Trace.JSONL())
		}
		wantEqual(t, "said", c.Said(), []string{"Extension 1000."})
	})
	t.Run("the caller id set_cid left", func(t *testing.T) {
		flow := `{"module":"set_cid","data":{"caller_id_number":"+18005550000"},"children":{"_":` + disaFlow(``, "") + `}}`
		c := catRun(t, flow, catOpts{inputs: []string{"1000#"}})
		wantEqual(t, "caller id", c.Find("dial")[0]["caller_id"], any("+18005550000"))
	})
}
