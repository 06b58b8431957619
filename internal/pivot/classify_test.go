package pivot

import (
	"errors"
	"testing"
)

func TestClassify(t *testing.T) {
	const twiml = `<Response><Say>hi</Say></Response>`
	const kazoo = `{"module":"tts","data":{"text":"hi"}}`
	for _, tc := range []struct {
		name, ct, body string
		kind           Kind
		code           int
	}{
		{"twiml text/xml", "text/xml", twiml, KindTwiML, 0},
		{"twiml application/xml charset", "Application/XML; charset=UTF-8", twiml, KindTwiML, 0},
		{"twiml declaration, comment, BOM", "text/xml", "\ufeff<?xml version=\"1.0\"?>\n<!-- c -->\n<Response/>", KindTwiML, 0},
		{"twiml latin-1", "text/xml", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Response><Say>caf\xe9</Say></Response>", KindTwiML, 0},
		{"twiml as text/html", "text/html; charset=utf-8", twiml, KindTwiML, 0},
		{"twiml as text/plain", "text/plain", twiml, KindTwiML, 0},
		{"twiml no content type", "", twiml, KindTwiML, 0},
		{"twiml octet-stream", "application/octet-stream", twiml, KindTwiML, 0},
		{"json", "application/json", kazoo, KindKazoo, 0},
		{"json charset", "application/json;charset=utf-8", " " + kazoo + "\n", KindKazoo, 0},
		{"json as text/plain", "text/plain", kazoo, KindKazoo, 0},
		{"json as text/html", "text/html", kazoo, KindKazoo, 0},
		{"json no content type", "", kazoo, KindKazoo, 0},
		{"text/plain prose", "text/plain; charset=utf-8", "Hello, thanks for calling.", KindText, 0},
		{"audio", "audio/mpeg", "ID3\x03binary", KindAudio, 0},
		{"audio wav", "Audio/X-WAV", "RIFF....WAVE", KindAudio, 0},
		{"xml without Response", "text/xml", `<Foo><Say>hi</Say></Foo>`, KindUnknown, CodeParse},
		{"xml lower-case response", "application/xml", `<response/>`, KindUnknown, CodeParse},
		{"xml unclosed", "text/xml", `<Response><Say>hi</Response>`, KindUnknown, CodeParse},
		{"xml truncated", "text/xml", `<Response><Say>hi</Say>`, KindUnknown, CodeParse},
		{"xml two roots", "text/xml", `<Response/><Response/>`, KindUnknown, CodeParse},
		{"xml text not xml", "text/xml", `hello`, KindUnknown, CodeParse},
		{"xml is json", "text/xml", kazoo, KindUnknown, CodeParse},
		{"invalid json", "application/json", `{"module":`, KindUnknown, CodeParse},
		{"json array", "application/json", `[1,2]`, KindUnknown, CodeParse},
		{"json is xml", "application/json", twiml, KindUnknown, CodeParse},
		{"html page", "text/html", `<html><body>oops</body></html>`, KindUnknown, CodeParse},
		{"html prose", "text/html", `Internal error`, KindUnknown, CodeParse},
		{"image", "image/png", "\x89PNG\r\n\x1a\n", KindUnknown, CodeContentType},
		{"no type prose", "", "hello", KindUnknown, CodeContentType},
		{"octet-stream broken xml", "application/octet-stream", "<Response>", KindUnknown, CodeParse},
		{"text/plain broken json is read out", "text/plain", `{"oops`, KindText, 0},
		{"empty", "text/xml", "", KindUnknown, CodeEmptyBody},
		{"blank", "application/json", " \n\t", KindUnknown, CodeEmptyBody},
	} {
		kind, err := Classify(tc.ct, []byte(tc.body))
		var e *Error
		gotCode := 0
		if errors.As(err, &e) {
			gotCode = e.Code
		} else if err != nil {
			t.Errorf("%s: error %v is not *Error", tc.name, err)
		}
		if kind != tc.kind || gotCode != tc.code {
			t.Errorf("%s: Classify = %v, %v; want %v, %d", tc.name, kind, err, tc.kind, tc.code)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, s := range map[Kind]string{KindUnknown: "unknown", KindTwiML: "twiml", KindKazoo: "kazoo", KindText: "text", KindAudio: "audio"} {
		if k.String() != s {
			t.Errorf("%d: %q", k, k.String())
		}
	}
}
