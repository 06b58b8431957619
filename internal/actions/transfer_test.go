package actions_test

import (
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
)

func transferFlow(data string) string {
	return `{"module":"transfer","data":{` + data + `},"children":{"_":{"module":"tts","data":{"text":"Fallback."}},` +
		`"USER_BUSY":{"module":"tts","data":{"text":"Busy."}}}}`
}

// TestTransfer: the target's flow takes the call over; a number no flow
// answers is dialled (its cause picks the child); bleg is warned about;
// no target and no capture group goes to "_".
func TestTransfer(t *testing.T) {
	numbers := actionstest.Numbers{"2000": `{"module":"tts","data":{"text":"Front desk."}}`}
	t.Run("an extension goes on in its flow", func(t *testing.T) {
		c := catRun(t, transferFlow(`"target":"2000"`), catOpts{numbers: numbers})
		r := c.Find("route")
		if len(r) != 1 || r[0]["callflow_id"] != "flow-2000" || r[0]["module"] != "transfer" || len(c.Find("dial")) != 0 {
			t.Errorf("routes %v\n%s", r, c.Trace.JSONL())
		}
		wantEqual(t, "said", c.Said(), []string{"Front desk."})
		wantTransfer(t, c.Find("transfer"), "2000", "routed")
	})
	t.Run("another number is dialled", func(t *testing.T) {
		c := catRun(t, transferFlow(`"target":"+1 415 555 1234"`), catOpts{numbers: numbers, dials: []string{"busy"}})
		d := c.Find("dial")
		if len(d) != 1 {
			t.Fatalf("dials %v\n%s", d, c.Trace.JSONL())
		}
		target := d[0]["targets"].([]map[string]any)[0]
		wantEqual(t, "target", []any{target["kind"], target["value"]}, []any{"number", "+14155551234"})
		wantEqual(t, "said", c.Said(), []string{"Busy."})
		wantTransfer(t, c.Find("transfer"), "+14155551234", "busy")
	})
	t.Run("answered: the flow ends with the call", func(t *testing.T) {
		c := catRun(t, transferFlow(`"target":"3000"`), catOpts{numbers: numbers})
		wantEqual(t, "said", c.Said(), []string(nil))
		wantTransfer(t, c.Find("transfer"), "3000", "completed")
	})
	t.Run("bleg: warned, the caller is transferred", func(t *testing.T) {
		c := catRun(t, transferFlow(`"target":"2000","leg":"bleg","transfer_type":"attended"`), catOpts{numbers: numbers})
		if w := c.Find("warning"); len(w) != 1 || w[0]["code"] != "transfer_leg" {
			t.Errorf("warnings %v", w)
		}
		wantEqual(t, "said", c.Said(), []string{"Front desk."})
	})
	t.Run("no target", func(t *testing.T) {
		c := catRun(t, transferFlow(``), catOpts{numbers: numbers})
		wantEqual(t, "said", c.Said(), []string{"Fallback."})
		wantEqual(t, "branches", c.Branches(), []string{"_"})
	})
}

// wantTransfer checks the one transfer line: the flow's blind transfer to
// target, and its outcome.
func wantTransfer(t *testing.T, lines []map[string]any, target, status string) {
	t.Helper()
	if len(lines) != 1 || lines[0]["kind"] != "blind" || lines[0]["by"] != "flow" || lines[0]["target"] != target || lines[0]["status"] != status {
		t.Errorf("transfer lines %v, want one to %s, %s", lines, target, status)
	}
}
