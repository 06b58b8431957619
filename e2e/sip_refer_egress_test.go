package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// tenantSIP starts a server whose tenant account (not the operator's,
// so the default egress policy binds it) takes calls from 127.0.0.1 and
// whose webhooks may reach 127.0.0.3 only.
func tenantSIP(t *testing.T) *sipServer {
	t.Helper()
	data := t.TempDir()
	sipAddr := fmt.Sprintf("127.0.0.1:%d", sipFreePort(t))
	p := serve(t, []string{"SWITCHBOARD_WEBHOOK_ALLOW=127.0.0.3"}, "--http-addr", "127.0.0.1:0", "--data-dir", data,
		"--admin-key", sipE2EKey, "--sip-addr", sipAddr, "--rtp-ports", "34000-34998")
	opToken, op := signIn(t, p.URL, sipE2EKey)
	status, env := api(t, "PUT", p.URL+"/v2/accounts/"+op, opToken, map[string]any{"data": map[string]any{"name": "Tenant R"}})
	if status != 201 {
		t.Fatalf("create account: %d %v", status, env)
	}
	key, _ := env["data"].(map[string]any)["api_key"].(string)
	token, acct := signIn(t, p.URL, key)
	s := &sipServer{proc: p, SIP: sipAddr, Data: data, Token: token, Account: acct}
	if status, env := api(t, "PUT", p.URL+"/v2/accounts/"+acct+"/trunks", token, map[string]any{"data": map[string]any{
		"name": "R's PBX", "source_cidrs": []string{"127.0.0.1"}}}); status != 201 {
		t.Fatalf("trunk: %d %v", status, env)
	}
	return s
}

// TestSippTenantReferToAnyHostRefused is toll fraud tried through
// <Refer>: a tenant's webhook answers <Refer><Sip>sip:+1900…@127.0.0.2
// </Sip></Refer> to a sipp call. No REFER goes out (sipp's scenario
// fails on one), the action is told failed, the trace's error line names
// the egress policy, and the document goes on.
func TestSippTenantReferToAnyHostRefused(t *testing.T) {
	sipTool(t, "sipp")
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3: %v", err)
	}
	var mu syncBuffer
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		switch r.URL.Path {
		case "/voice":
			fmt.Fprint(w, `<Response><Refer action="/referred"><Sip>sip:+19005550100@127.0.0.2:5060</Sip></Refer></Response>`)
		case "/referred":
			fmt.Fprintf(&mu, "ReferCallStatus=%s ReferSipResponseCode=%s\n", r.PostForm.Get("ReferCallStatus"), r.PostForm.Get("ReferSipResponseCode"))
			fmt.Fprint(w, `<Response><Say>Not transferred.</Say></Response>`)
		}
	})}}
	app.Start()
	defer app.Close()
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
