package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// TestDigestNonces: a nonce is good in its realm only, stale after its
// lifetime, and an answer with MD5 or SHA-256 checks against the stored
// HA1 of that algorithm.
func TestDigestNonces(t *testing.T) {
	n := newNonces(time.Minute, []string{"SHA-256", "MD5"})
	now := time.Unix(1_800_000_000, 0)
	chals := n.challenges("acct1", false, now)
	if len(chals) != 2 || !strings.Contains(chals[0], "SHA-256") || !strings.Contains(chals[0], `qop="auth"`) {
		t.Fatalf("challenges %q", chals)
	}
	for _, c := range chals {
		ch, err := digest.ParseChallenge(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.check("acct1", ch.Nonce, now.Add(30*time.Second)); got != nonceGood {
			t.Errorf("fresh nonce: %v", got)
		}
		if got := n.check("acct2", ch.Nonce, now); got != nonceBad {
			t.Errorf("nonce in another realm: %v", got)
		}
		if got := n.check("acct1", ch.Nonce, now.Add(2*time.Minute)); got != nonceStale {
			t.Errorf("old nonce: %v", got)
		}
		cred, err := digest.Digest(ch, digest.Options{Method: "REGISTER", URI: "sip:pbx", Username: "u", Password: "pw", Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		alg := ch.Algorithm
		if !digestValid(cred, "REGISTER", hexHash(digestHash(alg), "u", "acct1", "pw")) {
			t.Errorf("%s: right password refused", alg)
		}
		if digestValid(cred, "REGISTER", hexHash(digestHash(alg), "u", "acct1", "other")) {
			t.Errorf("%s: wrong password accepted", alg)
		}
		if digestValid(cred, "INVITE", hexHash(digestHash(alg), "u", "acct1", "pw")) {
			t.Errorf("%s: answer for another method accepted", alg)
		}
	}
	th := newThrottle(3, time.Minute)
	for range 3 {
		th.fail("192.0.2.1", now)
	}
	if !th.blocked("192.0.2.1", now) || th.blocked("192.0.2.2", now) || th.blocked("192.0.2.1", now.Add(2*time.Minute)) {
		t.Error("throttle: want the failing source blocked within the window only")
	}
}
