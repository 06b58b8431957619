package pivot

import (
	"encoding/json"
	"testing"
)

func TestEncodeParams(t *testing.T) {
	for _, tc := range []struct {
		name string
		ps   Params
		want string
	}{
		{"plain", Params{{"CallSid", "CA1"}, {"To", "+1800"}}, "CallSid=CA1&To=%2B1800"},
		{"value escaping", Params{{"Say", "a b&c=d+e%f/é?#"}}, "Say=a+b%26c%3Dd%2Be%25f%2F%C3%A9%3F%23"},
		{"key escaping", Params{{"a b", "1"}, {"x&y=z", "2"}, {"h#+%", "3"}, {"café", "4"}, {"Custom-Var.x:y/z", "5"}},
			"a%20b=1&x%26y%3Dz=2&h%23%2B%25=3&caf%C3%A9=4&Custom-Var.x:y/z=5"},
		{"nested", Params{{"Custom-SIP-Headers", map[string]any{"X-Foo": "bar baz", "A": "1"}}},
			"Custom-SIP-Headers[A]=1&Custom-SIP-Headers[X-Foo]=bar+baz"},
		{"nested string map", Params{{"Custom-Application-Vars", map[string]string{"k": "v"}}}, "Custom-Application-Vars[k]=v"},
		{"deep", Params{{"A", map[string]any{"b": map[string]any{"c": "1"}, "l": []string{"x"}}}}, "A[b][c]=1&A[l][]=x"},
		{"list", Params{{"User-ID", []string{"u1", "u 2"}}}, "User-ID[]=u1&User-ID[]=u+2"},
		{"any list", Params{{"L", []any{"a", 1, nil, true}}}, "L[]=a&L[]=1&L[]=true"},
		{"empty list", Params{{"L", []string{}}, {"A", "1"}}, "A=1"},
		{"scalars", Params{{"T", true}, {"F", false}, {"I", 42}, {"I64", int64(-7)}, {"Fl", 1.5}}, "T=true&F=false&I=42&I64=-7&Fl=1.5"},
		{"nil dropped, empty kept", Params{{"Nil", nil}, {"FromCity", ""}, {"M", map[string]any{"n": nil, "e": ""}}}, "FromCity=&M[e]="},
		{"duplicate: last wins at first position", Params{{"A", "1"}, {"B", "2"}, {"A", "3"}}, "A=3&B=2"},
		{"none", nil, ""},
	} {
		if got := EncodeParams(tc.ps); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestEncodeJSON(t *testing.T) {
	ps := dedupe(Params{
		{"Digits", map[string]any{"default": "12", "x": nil}}, {"User-ID", []string{"a"}}, {"L", []any{1, nil, "b"}},
		{"Nil", nil}, {"E", ""}, {"N", json.Number("3.0")}, {"HTML", "<&>"},
	})
	got, err := encodeJSON(ps)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"Digits":{"default":"12"},"User-ID":["a"],"L":[1,"b"],"E":"","N":3.0,"HTML":"<&>"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Error("invalid JSON")
	}
	if got, _ := encodeJSON(nil); string(got) != "{}" {
		t.Errorf("empty: %s", got)
	}
}

func TestAppendQuery(t *testing.T) {
	for _, tc := range [][3]string{
		{"http://h/p", "a=1", "http://h/p?a=1"},
		{"http://h/p?x=1", "a=1", "http://h/p?x=1&a=1"},
		{"http://h/p?", "a=1", "http://h/p?a=1"},
		{"http://h/p?x=1&", "a=1", "http://h/p?x=1&a=1"},
		{"http://h/p?x=1", "", "http://h/p?x=1"},
	} {
		if got := appendQuery(tc[0], tc[1]); got != tc[2] {
			t.Errorf("appendQuery(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}
