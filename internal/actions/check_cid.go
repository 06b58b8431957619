package actions

import (
	"context"
	"fmt"
	"regexp"

	"github.com/switchboard/switchboard/internal/engine"
	sbschema "github.com/switchboard/switchboard/internal/schema"
)

func init() {
	engine.Register(engine.Spec{
		Name: "check_cid", Group: "Caller ID", Label: "Check caller ID", Icon: "callerid",
		Doc:    "Branch on the caller's number: match or nomatch a pattern, or a child per number.",
		Schema: schema("check_cid"), Branches: []string{"match", "nomatch", "_"}, // absolute mode: caller numbers
		New: func() engine.Action { return new(CheckCID) },
	})
}

// CheckCID routes by the caller's number (Kazoo's check_cid): "match" when
// the pattern finds it (anywhere: anchor it with ^…$), "nomatch" otherwise.
// In absolute mode the child named after the number itself is taken, "_"
// when there is none. On a match, caller_id.external replaces the caller id
// the rest of the call presents.
type CheckCID struct {
	Regex           string      `json:"regex,omitempty"`
	UseAbsoluteMode bool        `json:"use_absolute_mode,omitempty"`
	CallerID        checkCIDSet `json:"caller_id,omitzero"`
	// UserID is Kazoo's owner override; Switchboard has no users yet.
	UserID string `json:"user_id,omitempty"`
}

type checkCIDSet struct {
	External struct {
		Name   string `json:"name,omitempty"`
		Number string `json:"number,omitempty"`
	} `json:"external,omitzero"`
}

// Validate compiles the pattern.
func (a *CheckCID) Validate() error {
	if _, err := regexp.Compile(a.pattern()); err != nil {
		return sbschema.FieldError{Path: "regex", Rule: "pattern", Message: "Invalid regular expression: " + err.Error(), Value: a.Regex}
	}
	return nil
}

func (a *CheckCID) pattern() string {
	if a.Regex == "" {
		return ".*"
	}
	return a.Regex
}

// Exec branches on the caller id the call presents now (set_cid included).
func (a *CheckCID) Exec(_ context.Context, x *engine.Exec) (string, error) {
	number, _ := x.Vars.CallerID(x.Call.Info())
	key := "nomatch"
	if a.UseAbsoluteMode {
		key = "_"
		if number != "" && x.HasChild(number) {
			key = number
		}
	} else {
		re, err := regexp.Compile(a.pattern())
		if err != nil {
			return "nomatch", fmt.Errorf("regex %q: %w", a.Regex, err)
		}
		if re.MatchString(number) {
			key = "match"
		}
	}
	traceBranch(x, key, "caller_id_number", number)
	if key != "nomatch" && key != "_" {
		ext := a.CallerID.External
		if ext.Number != "" || ext.Name != "" {
			x.Vars.SetCallerID(ext.Number, ext.Name)
			traceCallerID(x)
		}
	}
	return key, nil
}

var (
	_ engine.Action    = (*CheckCID)(nil)
	_ engine.Validator = (*CheckCID)(nil)
)
