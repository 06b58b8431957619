package actions

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/pivot"
	"github.com/switchboard/switchboard/internal/twiml"
)

func TestWebhookRecord(t *testing.T) {
	ex := &pivot.Exchange{Method: "GET", URL: "http://x/", Status: 200, Err: "e", Duration: time.Second}
	w := webhookRecord(ex, "acc", "call", 3)
	if w.AccountID != "acc" || w.CallID != "call" || w.Iteration != 3 || w.URL != "http://x/" || w.Error != "e" || w.Status != 200 || w.Duration != time.Second {
		t.Errorf("%+v", w)
	}
}

func TestDepsValidate(t *testing.T) {
	var nilDeps *Deps
	if err := nilDeps.Validate(); !errors.Is(err, ErrMissingDep) {
		t.Errorf("nil Deps: %v", err)
	}
	err := (&Deps{Webhooks: pivot.NewClient(pivot.Config{}), Queues: twiml.NewQueues()}).Validate()
	if !errors.Is(err, ErrMissingDep) {
		t.Fatalf("incomplete Deps: %v", err)
	}
	for _, name := range []string{"Flows", "Numbers", "CallLog", "TemporalRules"} {
		if !strings.Contains(err.Error(), "actions.Deps."+name+":") {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	for _, name := range []string{"Webhooks", "Queues"} {
		if strings.Contains(err.Error(), "actions.Deps."+name+":") {
			t.Errorf("error %q names %s, which is set", err, name)
		}
	}
}
