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

// tenantSIP starts a server whose tenant account (not the operator's, so
// the default egress policy binds it) takes calls from 127.0.0.1 and whose
// webhooks may reach 127.0.0.3 only; s works in the tenant's account.
func tenantSIP(t *testing.T) *sipServer {
	t.Helper()
	s := startSIP(t, []string{"SWITCHBOARD_WEBHOOK_ALLOW=127.0.0.3"})
	status, env := api(t, "PUT", s.URL+"/v2/accounts/"+s.Account, s.Token, map[string]any{"data": map[string]any{"name": "Tenant"}})
	if status != 201 {
		t.Fatalf("create account: %d %v", status, env)
	}
	key, _ := env["data"].(map[string]any)["api_key"].(string)
	s.Token, s.Account = signIn(t, s.URL, key)
	if status, env := api(t, "PUT", s.URL+"/v2/accounts/"+s.Account+"/trunks", s.Token, map[string]any{"data": map[string]any{
		"name": "Tenant's PBX", "source_cidrs": []string{"127.0.0.1"}}}); status != 201 {
		t.Fatalf("trunk: %d %v", status, env)
	}
	return s
}

// tenantApp serves h on 127.0.0.3, the one address tenantSIP's webhooks
// may reach, until the test ends; the test skips where there is no
// 127.0.0.3.
func tenantApp(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3: %v", err)
	}
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	app.Start()
	t.Cleanup(app.Close)
	return app
}

// TestSippTenantDialToAnyHostRefused is toll fraud tried through the
// binary: a tenant's webhook (on an address SWITCHBOARD_WEBHOOK_ALLOW lets
// it reach) answers <Dial><Sip>sip:+1900…@127.0.0.2</Sip></Dial> to a
// sipp call. No INVITE reaches 127.0.0.2, the dial line is failed, an
// error line names the egress policy, and the document goes on.
func TestSippTenantDialToAnyHostRefused(t *testing.T) {
	sipTool(t, "sipp")
	toll, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	defer toll.Close()
	app := tenantApp(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<Response><Dial timeout="5"><Sip>sip:+19005550100@%s</Sip></Dial><Say>Not connected.</Say></Response>`, toll.LocalAddr())
	})
	s := tenantSIP(t)
	s.flow(t, "7000", pivot(app.URL+"/voice"))

	if err := runSipp(t, s, "uac_record.xml", "7000", "toll-"); err != nil {
		t.Fatal(err)
	}
	tr := s.traceOf(t, "toll-")
	d := traceLines(tr, "dial")
	if len(d) != 1 || d[0]["status"] != "failed" || !strings.Contains(fmt.Sprint(d[0]["error"]), "refused by the egress policy") {
		t.Errorf("dial line: %s", sipDump(tr))
	}
	var named bool
	for _, l := range traceLines(tr, "error") {
		named = named || strings.Contains(fmt.Sprint(l["message"]), "egress policy")
	}
	if !named || len(traceLines(tr, "say")) == 0 {
		t.Errorf("no error line naming the policy, or the document stopped: %s", sipDump(tr))
	}
	toll.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 2048)
	if n, from, err := toll.ReadFrom(buf); err == nil {
		t.Errorf("127.0.0.2 received %d bytes from %s: %.100q", n, from, buf[:n])
	}
}
