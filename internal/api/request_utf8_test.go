package api

import "testing"

func TestInvalidUTF8Path(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"data":{"name":"ok"}}`, ""},
		{"{\"data\":{\"name\":\"bad\xff\"}}", "data.name"},
		{"{\"data\":{\"numbers\":[\"+1415\",\"80\xff(\"]}}", "data.numbers.1"},
		{"{\"data\":{\"flow\":{\"module\":\"play\",\"data\":{\"id\":\"x\xc3\"}},\"name\":\"n\"}}", "data.flow.data.id"},
		{"{\"data\":{\"a\":[{\"b\":1},{\"c\":\"\xe2\x82\"}]}}", "data.a.1.c"},
		{"{\"data\":{\"k\xff\":1}}", "data.k\ufffd"},
		{"{\"data\":{\"ok\":\"é ✓ 😀\"}}", ""},
	} {
		got, bad := invalidUTF8Path([]byte(tc.body))
		if !bad && tc.want != "" || bad && got != tc.want {
			t.Errorf("%q: path %q (bad %v), want %q", tc.body, got, bad, tc.want)
		}
	}
}

func TestDecodeRequestRefusesInvalidUTF8(t *testing.T) {
	_, err := decodeRequest([]byte("{\"data\":{\"name\":\"x\",\"numbers\":[\"80\xff(\"]}}"))
	e, ok := err.(*Error)
	if !ok || e.Status != 400 {
		t.Fatalf("err = %v, want a 400", err)
	}
	data, _ := e.Data.(map[string]any)
	if _, ok := data["numbers.0"]; !ok {
		t.Errorf("error data %v does not name numbers.0", e.Data)
	}
}
