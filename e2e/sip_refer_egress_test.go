package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSippTenantReferToAnyHostRefused is toll fraud tried through
// <Refer>: a tenant's webhook answers <Refer><Sip>sip:+1900…@127.0.0.2
// </Sip></Refer> to a sipp call. No REFER goes out (sipp's scenario
// fails on one), the action is told failed, the trace's error line names
// the egress policy, and the document goes on.
func TestSippTenantReferToAnyHostRefused(t *testing.T) {
	sipTool(t, "sipp")
	var mu syncBuffer
	app := tenantApp(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		switch r.URL.Path {
		case "/voice":
			fmt.Fprint(w, `<Response><Refer action="/referred"><Sip>sip:+19005550100@127.0.0.2:5060</Sip></Refer></Response>`)
		case "/referred":
			fmt.Fprintf(&mu, "ReferCallStatus=%s ReferSipResponseCode=%s\n", r.PostForm.Get("ReferCallStatus"), r.PostForm.Get("ReferSipResponseCode"))
			fmt.Fprint(w, `<Response><Say>Not transferred.</Say></Response>`)
		}
	})
	s := tenantSIP(t)
	s.flow(t, "7100", pivot(app.URL+"/voice"))

	start := time.Now()
	if err := runSipp(t, s, "uac_record.xml", "7100", "referfraud-"); err != nil {
		t.Fatal(err) // a REFER reaching sipp fails its scenario
	}
	tr := s.traceOf(t, "referfraud-")
	r := traceLines(tr, "refer")
	if len(r) != 1 || r[0]["status"] != "failed" || r[0]["refer_code"] != 0.0 {
		t.Errorf("refer line: %s", sipDump(tr))
	}
	var named bool
	for _, l := range traceLines(tr, "error") {
		named = named || l["code"] == "egress_refused" && strings.Contains(fmt.Sprint(l["message"]), "egress policy")
	}
	if !named || len(traceLines(tr, "say")) != 1 {
		t.Errorf("no error line naming the policy, or the action's document did not run: %s", sipDump(tr))
	}
	if got := mu.String(); got != "ReferCallStatus=failed ReferSipResponseCode=\n" {
		t.Errorf("the action got %q", got)
	}
	t.Logf("refused and went on in %v", time.Since(start))
}
