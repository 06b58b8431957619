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
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3: %v", err)
	}
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<Response><Dial timeout="5"><Sip>sip:+19005550100@%s</Sip></Dial><Say>Not connected.</Say></Response>`, toll.LocalAddr())
	})}}
	app.Start()
	defer app.Close()

	data := t.TempDir()
	sipAddr := fmt.Sprintf("127.0.0.1:%d", sipFreePort(t))
	p := serve(t, []string{"SWITCHBOARD_WEBHOOK_ALLOW=127.0.0.3"}, "--http-addr", "127.0.0.1:0", "--data-dir", data,
		"--admin-key", sipE2EKey, "--sip-addr", sipAddr, "--rtp-ports", "33000-33998")
	opToken, op := signIn(t, p.URL, sipE2EKey)
	status, env := api(t, "PUT", p.URL+"/v2/accounts/"+op, opToken, map[string]any{"data": map[string]any{"name": "Tenant B"}})
	if status != 201 {
		t.Fatalf("create account: %d %v", status, env)
	}
	key, _ := env["data"].(map[string]any)["api_key"].(string)
	tokenB, b := signIn(t, p.URL, key)
	s := &sipServer{proc: p, SIP: sipAddr, Data: data, Token: tokenB, Account: b}
	if status, env := api(t, "PUT", p.URL+"/v2/accounts/"+b+"/trunks", tokenB, map[string]any{"data": map[string]any{
		"name": "B's PBX", "source_cidrs": []string{"127.0.0.1"}}}); status != 201 {
		t.Fatalf("trunk: %d %v", status, env)
	}
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
