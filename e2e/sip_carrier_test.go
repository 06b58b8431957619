package e2e

import (
	"fmt"
	"testing"
)

// TestResourcesThroughCarrier: a flow's resources module calls a number
// through the account's carrier, a sipp UAS that challenges the INVITE
// with digest auth, checks the answer and takes the call.
func TestResourcesThroughCarrier(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	port := sipFreePort(t)
	carrier := sippCmd(t, "uas_carrier_auth.xml", "-p", fmt.Sprint(port))()
	awaitUDPBound(t, port)
	base := s.URL + "/v2/accounts/" + s.Account
	if st, env := api(t, "PUT", base+"/resources", s.Token, map[string]any{"data": map[string]any{
		"name": "sipp carrier", "weight_cost": 10, "rules": []string{`^1555\d{7}$`},
		"gateways": []map[string]any{
			{"server": "127.0.0.1", "port": port, "username": "trunkuser", "password": "trunkpass", "realm": "carrier.example"},
		},
	}}); st != 201 {
		t.Fatalf("create resource: %d %v", st, env)
	}
	s.flow(t, "15551230000", map[string]any{"module": "resources", "data": map[string]any{"timeout": 20}})
	if err := runSipp(t, s, "uac_record.xml", "15551230000", "out-"); err != nil {
		t.Fatal(err)
	}
	if err := carrier.Wait(); err != nil {
		t.Fatalf("carrier: %v", err)
	}
	tr := s.traceOf(t, "out-")
	if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" || d[0]["duration"].(float64) < 1.5 {
		t.Errorf("trace %s", sipDump(tr))
	}
}
