package sip

import "testing"

func TestMessageStatsCountsStartLines(t *testing.T) {
	s := &Server{}
	m := &s.stats
	for _, msg := range []string{
		"INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: x\r\n\r\n",
		"ACK sip:1000@127.0.0.1 SIP/2.0\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n",
		"SIP/2.0 486 Busy Here\r\n\r\n",
		"FROBNICATE sip:x SIP/2.0\r\n\r\n", // other
		"\r\n\r\n",                         // keep-alive: not a message
		"SIP/2.0 99 Bad\r\n\r\n",           // out of range: not counted
	} {
		m.count(dirIn, []byte(msg))
	}
	m.count(dirOut, []byte("BYE sip:a SIP/2.0\r\n\r\n"))
	req, res := s.MessageCounts()
	got := map[string]uint64{}
	for _, c := range req {
		got[c.Direction+" "+c.Name] = c.N
	}
	for _, c := range res {
		got[c.Direction+" "+c.Name] = c.N
	}
	want := map[string]uint64{"in INVITE": 1, "in ACK": 1, "in other": 1, "out BYE": 1, "in 200": 1, "in 486": 1}
	if len(got) != len(want) {
		t.Errorf("counted %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}
