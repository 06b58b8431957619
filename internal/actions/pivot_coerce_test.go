package actions_test

import (
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
)

// TestKazooAnswerLeniency: numbers and booleans given as strings in a
// Kazoo JSON answer are accepted and typed, as Kazoo does, and each is
// reported in a warning line naming the field.
func TestKazooAnswerLeniency(t *testing.T) {
	t.Parallel()
	runKazooCases(t, []pivotCase{
		{
			name: "strings typed, one warning per field",
			docs: map[string][]actionstest.Reply{"/start": {actionstest.KazooAnswer(
				`{"module":"play","data":{"id":"https://cdn.example.com/a.mp3","loop_count":"2","answer":"true"}}`)}},
			ops: []string{"module", "webhook", "warning", "warning", "module", "answer", "play", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "warning", 0), map[string]any{"code": "kazoo_value_coerced", "field": "flow.data.answer"})
				actionstest.WantFields(t, r.Line(t, "warning", 1), map[string]any{"code": "kazoo_value_coerced", "field": "flow.data.loop_count"})
				actionstest.WantFields(t, r.Line(t, "play", 0), map[string]any{"url": "https://cdn.example.com/a.mp3", "loop": 2})
			},
		},
		{
			name: "typed values: no warning",
			docs: map[string][]actionstest.Reply{"/start": {actionstest.KazooAnswer(
				`{"module":"play","data":{"id":"https://cdn.example.com/a.mp3","loop_count":2}}`)}},
			ops: []string{"module", "webhook", "module", "play", "hangup"},
		},
	})
}
