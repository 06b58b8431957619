package engine_test

import (
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
)

func TestVarsCallerID(t *testing.T) {
	info := call.Info{From: "+15555550100", FromName: "Alice"}
	v := engine.NewVars()
	check := func(what, number, name string) {
		t.Helper()
		if n, m := v.CallerID(info); n != number || m != name {
			t.Errorf("%s: %q %q, want %q %q", what, n, m, number, name)
		}
	}
	check("unchanged", "+15555550100", "Alice")
	v.SetCallerID("", "Front desk")
	check("name only", "+15555550100", "Front desk")
	v.SetCallerID("+18005550000", "")
	check("number too", "+18005550000", "Front desk")
	v.PrependCallerID("9", "Sales: ", false)
	v.PrependCallerID("", "VIP ", false)
	check("prefixes add up", "9+18005550000", "VIP Sales: Front desk")
	v.PrependCallerID("", "Support: ", true)
	check("replace", "+18005550000", "Support: Front desk")
	v.ResetCallerIDPrefix()
	check("reset", "+18005550000", "Front desk")
	if len(v.All()) != 0 {
		t.Errorf("the caller id leaked into the variables sent to webhooks: %v", v.All())
	}
}

func TestVarsLanguage(t *testing.T) {
	v := engine.NewVars()
	if got := v.Language("en-US"); got != "en-US" {
		t.Errorf("default %q", got)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { v.SetLanguage("fr-FR"); _ = v.Language("") })
	}
	wg.Wait()
	if got := v.Language("en-US"); got != "fr-FR" {
		t.Errorf("set %q", got)
	}
}
