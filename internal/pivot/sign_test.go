package pivot

import (
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestTwilioSignatureKnownAnswer(t *testing.T) {
	// twilio-python tests/unit/test_request_validator.py
	form := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
	got := TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if want := "RSOYDt4T1cUTdK1PDd93/VVr8B8="; got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	// Values of one name are sorted and de-duplicated; names sorted byte-wise.
	a := TwilioSignature("k", "https://x/", url.Values{"b": {"2", "1", "2"}, "B": {"x"}})
	b := TwilioSignature("k", "https://x/", url.Values{"B": {"x"}, "b": {"1", "2"}})
	if a != b {
		t.Errorf("multi-valued params: %q != %q", a, b)
	}
	if TwilioSignature("k", "https://x/", nil) == TwilioSignature("k", "https://x/?", nil) {
		t.Error("URL not covered")
	}
}

func TestSwitchboardSignature(t *testing.T) {
	const key = "secret"
	now := time.Unix(1_700_000_000, 0)
	ts := now.Unix()
	tss := strconv.FormatInt(ts, 10)
	u := "https://example.com/ivr?x=1"
	body := []byte("CallSid=CA1&Digits=1")
	sig := SwitchboardSignature(key, ts, "POST", u, body)
	if len(sig) != 3+64 || sig[:3] != "v1=" {
		t.Fatalf("signature %q", sig)
	}
	ok := func(name, header, tsh, method, url string, body []byte, now time.Time, want bool) {
		t.Helper()
		if got := VerifySwitchboardSignature(key, header, tsh, method, url, body, now, 5*time.Minute); got != want {
			t.Errorf("%s: verify = %v, want %v", name, got, want)
		}
	}
	ok("round trip", sig, tss, "POST", u, body, now, true)
	ok("method case", sig, tss, "post", u, body, now, true)
	ok("within skew", sig, tss, "POST", u, body, now.Add(4*time.Minute), true)
	ok("rotation list", "v1=00ff, "+sig, tss, "POST", u, body, now, true)
	ok("body tampered", sig, tss, "POST", u, []byte("CallSid=CA1&Digits=2"), now, false)
	ok("url tampered", sig, tss, "POST", u+"&y=2", body, now, false)
	ok("method tampered", sig, tss, "GET", u, body, now, false)
	ok("timestamp tampered", sig, strconv.FormatInt(ts+1, 10), "POST", u, body, now, false)
	ok("too old", sig, tss, "POST", u, body, now.Add(6*time.Minute), false)
	ok("from the future", sig, tss, "POST", u, body, now.Add(-6*time.Minute), false)
	ok("no signature", "", tss, "POST", u, body, now, false)
	ok("bad timestamp", sig, "soon", "POST", u, body, now, false)
	ok("truncated", sig[:len(sig)-1], tss, "POST", u, body, now, false)
	if VerifySwitchboardSignature("other", sig, tss, "POST", u, body, now, time.Minute) {
		t.Error("wrong key verified")
	}
	if !VerifySwitchboardSignature(key, sig, tss, "POST", u, body, now.Add(24*time.Hour), 0) {
		t.Error("maxSkew 0 should not check the clock")
	}
}

// TestValidTwilioSignature: Twilio's known answer validates with either
// token of a rotation, with or without the default port, and not with a
// wrong token.
func TestValidTwilioSignature(t *testing.T) {
	form := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"},
	}
	const sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	for _, c := range []struct {
		name   string
		tokens []string
		url    string
		want   bool
	}{
		{"current", []string{"12345"}, "https://mycompany.com/myapp.php?foo=1&bar=2", true},
		{"previous during grace", []string{"new-token", "12345"}, "https://mycompany.com/myapp.php?foo=1&bar=2", true},
		{"with the default port", []string{"12345"}, "https://mycompany.com:443/myapp.php?foo=1&bar=2", true},
		{"wrong token", []string{"54321"}, "https://mycompany.com/myapp.php?foo=1&bar=2", false},
		{"no token", nil, "https://mycompany.com/myapp.php?foo=1&bar=2", false},
	} {
		if got := ValidTwilioSignature(c.tokens, c.url, form, sig); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
