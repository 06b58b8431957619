package callflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	_ "github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/schema"
)

// Test-only modules, under names no real module will take.
func init() {
	engine.Register(engine.Spec{
		Name:     "test_terminal",
		Group:    "Test",
		Label:    "Terminal",
		Schema:   []byte(`{"type":"object"}`),
		Terminal: true,
		New:      func() engine.Action { return new(noop) },
	})
	engine.Register(engine.Spec{
		Name:   "test_validator",
		Group:  "Test",
		Label:  "Validator",
		Schema: []byte(`{"type":"object","properties":{"low":{"type":"integer"},"high":{"type":"integer"},"opts":{"type":"object","default":{},"properties":{"n":{"type":"integer","default":3}}},"nested":{"type":"object","properties":{"x":{"type":"string","default":"y"}}}}}`),
		New:    func() engine.Action { return new(lowHigh) },
	})
}

type noop struct{}

func (noop) Exec(context.Context, *engine.Exec) (string, error) { return "_", nil }

type lowHigh struct {
	noop
	Low  int `json:"low"`
	High int `json:"high"`
}

func (l *lowHigh) Validate() error {
	switch {
	case l.Low > l.High && l.High < 0:
		return errors.New("plain failure")
	case l.Low > l.High:
		return schema.ValidationError{{Path: "low", Rule: "maximum", Message: "low must not exceed high", Target: l.High}}
	case l.Low == 42:
		return schema.FieldError{Path: "low", Rule: "answer", Message: "not that one"}
	}
	return nil
}

// pivot wraps pivot data in a document.
func pivot(data string) string {
	return `{"numbers":["1000"],"flow":{"module":"pivot","data":` + data + `}}`
}

type want struct{ path, rule string }

func rules(err error) []want {
	var ve schema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	out := make([]want, 0, len(ve))
	for _, f := range ve {
		out = append(out, want{f.Path, f.Rule})
	}
	return out
}

func TestPrepare(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		errs  []want // nil: must succeed
		check func(t *testing.T, f *callflow.Flow, err error)
	}{
		{
			name: "minimal",
			body: pivot(`{"voice_url":"https://example.com/v"}`),
			check: func(t *testing.T, f *callflow.Flow, _ error) {
				if f.Root == nil || f.Root.Module != "pivot" || f.Root.Path != "flow" || f.Root.Action == nil {
					t.Fatalf("root = %+v", f.Root)
				}
				if !reflect.DeepEqual(f.Numbers, []string{"1000"}) {
					t.Errorf("numbers = %q", f.Numbers)
				}
			},
		},
		{
			name: "pivot defaults injected",
			body: pivot(`{"voice_url":"https://example.com/v"}`),
			check: func(t *testing.T, f *callflow.Flow, _ error) {
				data := f.Doc["flow"].(map[string]any)["data"].(map[string]any)
				for k, v := range map[string]any{
					"method": "get", "req_format": "kazoo", "req_body_format": "form",
					"debug": false, "retries": json.Number("1"),
				} {
					if !reflect.DeepEqual(data[k], v) {
						t.Errorf("data.%s = %#v, want %#v", k, data[k], v)
					}
				}
				if _, ok := data["req_timeout_ms"]; ok {
					t.Error("req_timeout_ms has no default but was set")
				}
				var raw map[string]any
				if err := json.Unmarshal(f.Root.Data, &raw); err != nil || raw["method"] != "get" {
					t.Errorf("Node.Data = %s (%v)", f.Root.Data, err)
				}
				if f.Doc["patterns"] == nil {
					t.Error("patterns default [] not applied")
				}
			},
		},
		{
			name: "data absent defaults to {} then voice_url is required",
			body: `{"flow":{"module":"pivot"}}`,
			errs: []want{{"flow.data.voice_url", "required"}},
		},
		{
			name: "bad voice_url pattern",
			body: pivot(`{"voice_url":"ftp://example.com"}`),
			errs: []want{{"flow.data.voice_url", "pattern"}},
			check: func(t *testing.T, _ *callflow.Flow, err error) {
				f := err.(schema.ValidationError)[0]
				if f.Message != "Failed to match pattern '^https?://'" || f.Target != "^https?://" || f.Value != "ftp://example.com" {
					t.Errorf("got %+v", f)
				}
			},
		},
		{
			name: "bad method enum",
			body: pivot(`{"voice_url":"https://x","method":"put"}`),
			errs: []want{{"flow.data.method", "enum"}},
			check: func(t *testing.T, _ *callflow.Flow, err error) {
				f := err.(schema.ValidationError)[0]
				if f.Message != "Value not found in enumerated list of values" || f.Value != "put" {
					t.Errorf("got %+v", f)
				}
				if !reflect.DeepEqual(f.Target, []any{"get", "post", "GET", "POST"}) {
					t.Errorf("target = %#v", f.Target)
				}
			},
		},
		{
			name: "maximum and type",
			body: pivot(`{"voice_url":"https://x","req_timeout_ms":19000,"debug":"yes"}`),
			errs: []want{{"flow.data.debug", "type"}, {"flow.data.req_timeout_ms", "maximum"}},
			check: func(t *testing.T, _ *callflow.Flow, err error) {
				ve := err.(schema.ValidationError)
				if ve[0].Message != "Value did not match type: boolean" || ve[0].Target != "boolean" || ve[0].Value != "yes" {
					t.Errorf("type: %+v", ve[0])
				}
				if ve[1].Message != "Value must be at most 15000" || ve[1].Target != json.Number("15000") {
					t.Errorf("maximum: %+v", ve[1])
				}
			},
		},
		{
			name: "unknown module in a nested child",
			body: `{"flow":{"module":"pivot","data":{"voice_url":"https://x"},"children":{"_":{"module":"nope","data":{}}}}}`,
			errs: []want{{"flow.children._.module", "enum"}},
			check: func(t *testing.T, _ *callflow.Flow, err error) {
				f := err.(schema.ValidationError)[0]
				if f.Message != "unable to find callflow schema for module nope" || f.Value != "nope" {
					t.Errorf("got %+v", f)
				}
			},
		},
		{
			name: "every error is reported",
			body: `{"numbers":"1000","patterns":["("],"flow":{"module":"pivot","data":{"method":"x"},"children":{"a":5,"b":{"data":[]},"c":{"module":"pivot","data":{"voice_url":"https://x"},"children":{"_":{"module":"","data":{}}}}}}}`,
			errs: []want{
				{"flow.children.a", "type"},
				{"flow.children.b.data", "type"},
				{"flow.children.b.module", "required"},
				{"flow.children.c.children._.module", "minLength"},
				{"flow.data.method", "enum"},
				{"flow.data.voice_url", "required"},
				{"numbers", "type"},
				{"patterns.0", "pattern"},
			},
		},
		{
			name: "numbers type error in Kazoo's shape",
			body: `{"numbers":"1000","flow":{"module":"pivot","data":{"voice_url":"https://x"}}}`,
			errs: []want{{"numbers", "type"}},
			check: func(t *testing.T, _ *callflow.Flow, err error) {
				got := err.(schema.ValidationError).Data()
				wantData := map[string]map[string]map[string]any{"numbers": {"type": {
					"message": "Value did not match type: array", "target": "array", "value": "1000",
				}}}
				if !reflect.DeepEqual(got, wantData) {
					t.Errorf("Data() = %#v", got)
				}
			},
		},
		{
			name: "numbers item too long",
			body: `{"numbers":["` + strings.Repeat("x", 37) + `", ""]}`,
			errs: []want{{"numbers.0", "maxLength"}, {"numbers.1", "minLength"}},
		},
		{
			name: "numbers normalised",
			body: `{"numbers":["(415) 555-0100","011 44 20 7946 0000","1000","*72","no_match"," 2000 "],"flow":{"module":"pivot","data":{"voice_url":"https://x"}}}`,
			check: func(t *testing.T, f *callflow.Flow, _ error) {
				w := []string{"+14155550100", "+442079460000", "1000", "*72", "no_match", "2000"}
				if !reflect.DeepEqual(f.Numbers, w) {
					t.Errorf("Numbers = %q", f.Numbers)
				}
				if !reflect.DeepEqual(f.Doc["numbers"], []any{"+14155550100", "+442079460000", "1000", "*72", "no_match", "2000"}) {
					t.Errorf("Doc numbers = %#v", f.Doc["numbers"])
				}
			},
		},
		{
			name: "duplicate after normalisation",
			body: `{"numbers":["4155550100","+1 415 555 0100"]}`,
			errs: []want{{"numbers", "uniqueItems"}},
		},
		{
			name: "exact duplicate is the schema's uniqueItems",
			body: `{"numbers":["1000","1000"]}`,
			errs: []want{{"numbers", "uniqueItems"}},
		},
		{
			name: "bad regexp",
			body: `{"patterns":["^\\d+$","^(\\d+$","(?<=1)2"]}`,
			errs: []want{{"patterns.1", "pattern"}, {"patterns.2", "pattern"}},
			check: func(t *testing.T, _ *callflow.Flow, err error) {
				if m := err.(schema.ValidationError)[0].Message; !strings.Contains(m, "missing closing )") {
					t.Errorf("message = %q", m)
				}
			},
		},
		{
			name: "patterns compiled",
			body: `{"patterns":["^\\+1(\\d{10})$","^(?P<ext>2\\d{3})$"]}`,
			check: func(t *testing.T, f *callflow.Flow, _ error) {
				if len(f.Regexps) != 2 || !f.Regexps[1].MatchString("2345") || len(f.Patterns) != 2 {
					t.Errorf("Regexps = %v, Patterns = %q", f.Regexps, f.Patterns)
				}
				if f.Root != nil {
					t.Error("no flow key, but Root is set")
				}
			},
		},
		{
			name: "no numbers nor patterns is allowed",
			body: `{"name":"copy","flow":{"module":"pivot","data":{"voice_url":"https://x"}}}`,
			check: func(t *testing.T, f *callflow.Flow, _ error) {
				if len(f.Numbers) != 0 || !reflect.DeepEqual(f.Doc["numbers"], []any{}) {
					t.Errorf("numbers = %#v", f.Doc["numbers"])
				}
			},
		},
		{
			name: "unknown keys kept, id left as given",
			body: `{"id":"abc","type":"main","contact_list":{"exclude":true},"big":123456789012345678901234567890,"flow":{"module":"pivot","data":{"voice_url":"https://x","custom":[1,2]},"remote_execution":false}}`,
			check: func(t *testing.T, f *callflow.Flow, _ error) {
				if f.ID != "abc" || f.Doc["id"] != "abc" || f.Doc["type"] != "main" {
					t.Errorf("doc = %#v", f.Doc)
				}
				if f.Doc["big"] != json.Number("123456789012345678901234567890") {
					t.Errorf("big = %#v", f.Doc["big"])
				}
				if !reflect.DeepEqual(f.Doc["contact_list"], map[string]any{"exclude": true}) {
					t.Errorf("contact_list = %#v", f.Doc["contact_list"])
				}
				root := f.Doc["flow"].(map[string]any)
				if root["remote_execution"] != false || root["data"].(map[string]any)["custom"] == nil {
					t.Errorf("flow = %#v", root)
				}
			},
		},
		{
			name: "dot in a key is escaped",
			body: `{"flow":{"module":"pivot","data":{"voice_url":"https://x"},"children":{"1.5":{"module":"pivot","data":{"voice_url":"x"}}}}}`,
			errs: []want{{"flow.children.1%2E5.data.voice_url", "pattern"}},
			check: func(t *testing.T, f *callflow.Flow, err error) {
				if _, ok := err.(schema.ValidationError).Data()["flow.children.1%2E5.data.voice_url"]; !ok {
					t.Error("escaped path missing from Data()")
				}
			},
		},
		{
			name: "children tree built",
			body: `{"flow":{"module":"pivot","data":{"voice_url":"https://x"},"children":{"_":{"module":"pivot","data":{"voice_url":"https://y"},"children":{"1":{"module":"test_terminal","data":{}}}}}}}`,
			check: func(t *testing.T, f *callflow.Flow, _ error) {
				c := f.Root.Children["_"]
				if c == nil || c.Path != "flow.children._" || c.Action == nil {
					t.Fatalf("child = %+v", c)
				}
				if gc := c.Children["1"]; gc == nil || gc.Path != "flow.children._.children.1" || gc.Module != "test_terminal" {
					t.Errorf("grandchild = %+v", gc)
				}
			},
		},
		{
			name: "terminal module with children",
			body: `{"flow":{"module":"test_terminal","data":{},"children":{"_":{"module":"test_terminal","data":{}}}}}`,
			errs: []want{{"flow.children", "terminal"}},
			check: func(t *testing.T, _ *callflow.Flow, err error) {
				if m := err.(schema.ValidationError)[0].Message; m != "module test_terminal takes no children" {
					t.Errorf("message = %q", m)
				}
			},
		},
		{
			name: "terminal module with empty children",
			body: `{"flow":{"module":"test_terminal","data":{},"children":{}}}`,
		},
		{
			name: "nested defaults",
			body: `{"flow":{"module":"test_validator","data":{"nested":{}}}}`,
			check: func(t *testing.T, f *callflow.Flow, _ error) {
				data := f.Doc["flow"].(map[string]any)["data"].(map[string]any)
				if !reflect.DeepEqual(data["opts"], map[string]any{"n": json.Number("3")}) {
					t.Errorf("opts = %#v", data["opts"])
				}
				if !reflect.DeepEqual(data["nested"], map[string]any{"x": "y"}) {
					t.Errorf("nested = %#v", data["nested"])
				}
			},
		},
		{
			name: "validator ValidationError is prefixed",
			body: `{"flow":{"module":"test_validator","data":{"low":5,"high":1}}}`,
			errs: []want{{"flow.data.low", "maximum"}},
		},
		{
			name: "validator FieldError is prefixed",
			body: `{"flow":{"module":"test_validator","data":{"low":42,"high":50}}}`,
			errs: []want{{"flow.data.low", "answer"}},
		},
		{
			name: "validator plain error",
			body: `{"flow":{"module":"test_validator","data":{"low":5,"high":-1}}}`,
			errs: []want{{"flow.data", "error"}},
		},
		{
			name: "decode error",
			body: `{"flow":{"module":"test_validator","data":{"low":1.5}}}`,
			errs: []want{{"flow.data.low", "type"}},
		},
		{
			name: "document fields",
			body: `{"name":5,"featurecode":{"name":"","number":"*72"},"flags":[1],"ringback":{"early":2},"metaflow":[],"flow":[]}`,
			errs: []want{
				{"featurecode.name", "minLength"}, {"flags.0", "type"}, {"flow", "type"},
				{"metaflow", "type"}, {"name", "type"}, {"ringback.early", "type"},
			},
		},
		{
			name: "body is an array",
			body: `[]`,
			errs: []want{{"data", "type"}},
			check: func(t *testing.T, _ *callflow.Flow, err error) {
				w := schema.ValidationError{{Path: "data", Rule: "type", Message: "Value did not match type: object", Target: "object"}}
				if !reflect.DeepEqual(err, w) {
					t.Errorf("err = %#v", err)
				}
			},
		},
		{
			name: "too deep",
			body: deep(callflow.MaxDepth + 1),
			errs: []want{{"flow" + strings.Repeat(".children._", callflow.MaxDepth), "maxDepth"}},
		},
		{
			name: "exactly max depth",
			body: deep(callflow.MaxDepth),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := callflow.Prepare([]byte(tc.body))
			if tc.errs == nil && err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if tc.errs != nil {
				if err == nil {
					t.Fatalf("Prepare succeeded, want %v", tc.errs)
				}
				if got := rules(err); !reflect.DeepEqual(got, tc.errs) {
					t.Fatalf("errors = %v\nwant     %v\n(%v)", got, tc.errs, err)
				}
			}
			if tc.check != nil {
				tc.check(t, f, err)
			}
		})
	}
}

// deep builds a document whose flow nests levels blocks through "_".
func deep(levels int) string {
	const open = `{"module":"pivot","data":{"voice_url":"http://x"},"children":{"_":`
	return `{"flow":` + strings.Repeat(open, levels-1) +
		`{"module":"pivot","data":{"voice_url":"http://x"}}` + strings.Repeat("}}", levels-1) + `}`
}

func TestPrepareDeepNesting(t *testing.T) {
	for _, levels := range []int{100, 3000, 10000} {
		_, err := callflow.Prepare([]byte(deep(levels)))
		if err == nil {
			t.Fatalf("%d levels: no error", levels)
		}
	}
	// 10,000 blocks is past encoding/json's own nesting limit: a plain error.
	_, err := callflow.Prepare([]byte(deep(10000)))
	var ve schema.ValidationError
	if errors.As(err, &ve) {
		t.Errorf("10000 levels: want a JSON error, got %v", err)
	}
	// 3,000 decodes and is stopped by MaxDepth, reported once.
	_, err = callflow.Prepare([]byte(deep(3000)))
	if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Rule != "maxDepth" {
		t.Errorf("3000 levels: %v", err)
	}
}

func TestPrepareNotJSON(t *testing.T) {
	for _, body := range []string{``, `{`, `{"a":1} x`, `{"a":1}{}`, `nul`} {
		_, err := callflow.Prepare([]byte(body))
		var ve schema.ValidationError
		if err == nil || errors.As(err, &ve) {
			t.Errorf("%q: err = %v, want a plain error", body, err)
		}
	}
	for _, body := range []string{`null`, `"x"`, `5`, `[]`, `true`} {
		_, err := callflow.Prepare([]byte(body))
		if got := rules(err); !reflect.DeepEqual(got, []want{{"data", "type"}}) {
			t.Errorf("%q: %v", body, err)
		}
	}
}

func TestCompileStored(t *testing.T) {
	f, err := callflow.Prepare([]byte(pivot(`{"voice_url":"https://x"}`)))
	if err != nil {
		t.Fatal(err)
	}
	f.Doc["id"] = "f1"
	b, _ := json.Marshal(f.Doc)
	g, err := callflow.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	if g.ID != "f1" || !reflect.DeepEqual(g.Doc, f.Doc) || g.Root.Action == nil {
		t.Errorf("Compile = %+v", g)
	}
}

func TestFixturesPrepare(t *testing.T) {
	for name, b := range fixtures(t) {
		if _, err := callflow.Prepare(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func fixtures(t testing.TB) map[string][]byte {
	paths, err := filepath.Glob("../../testdata/callflows/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// FuzzPrepare: Prepare never panics, and what it accepts is a fixed point:
// the stored Doc prepares again to the same Doc.
func FuzzPrepare(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fl, err := callflow.Prepare(body)
		if err != nil {
			var ve schema.ValidationError
			if errors.As(err, &ve) && len(ve) == 0 {
				t.Fatal("empty ValidationError")
			}
			return
		}
		out, err := json.Marshal(fl.Doc)
		if err != nil {
			t.Fatalf("marshal Doc: %v", err)
		}
		again, err := callflow.Prepare(out)
		if err != nil {
			t.Fatalf("stored Doc does not prepare again: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(fl.Doc, again.Doc) {
			t.Fatalf("not idempotent:\n%#v\n%#v", fl.Doc, again.Doc)
		}
	})
}

func TestPrepareConcurrent(t *testing.T) {
	fx := fixtures(t)
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			var err error
			for _, b := range fx {
				if _, e := callflow.Prepare(b); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// skip_module is read once, when the flow is compiled: only the node's own
// flag counts, never a key of that name deeper in its data.
func TestSkipModuleDecidedAtCompile(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		skip       bool
	}{
		{"set", `{"text":"x","skip_module":true}`, true},
		{"false", `{"text":"x","skip_module":false}`, false},
		{"absent", `{"text":"x"}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":{"module":"tts","data":` + tt.data + `,"children":{"_":{"module":"tts","data":{"text":"y"}}}}}`))
			if err != nil {
				t.Fatal(err)
			}
			if f.Root.Skip != tt.skip || f.Root.Children["_"].Skip {
				t.Errorf("Skip = %v (child %v), want %v", f.Root.Skip, f.Root.Children["_"].Skip, tt.skip)
			}
		})
	}
	f, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":{"module":"test_validator","data":{"nested":{"skip_module":true}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Root.Skip {
		t.Error("a nested skip_module key skipped the node")
	}
}
