package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
	sbschema "github.com/switchboard/switchboard/internal/schema"
)

func init() {
	engine.Register(engine.Spec{
		Name: "menu", Group: "Basic", Label: "Menu", Icon: "menu",
		Doc:    "Ask the caller to press an option (IVR), or dial an extension.",
		Schema: schema("menu"), Branches: nil, // the keys pressed, "timeout", "max_retries", "_"
		New: func() engine.Action { return new(Menu) },
	})
}

// Menu is an IVR (Kazoo's menu module). As Kazoo, it reads its settings
// from the menu document named by "id" (…/menus/{id}) when the call
// reaches it; the same settings may also be given inline, under the menu
// document's field names: with an id the document's settings win and
// inline ones fill what it leaves out (settings).
//
// Each attempt plays the greeting and collects up to max_extension_length
// keys. Keys naming a child take that child; else, with hunt, a number
// another flow of the account answers takes the call there; else the
// invalid-entry prompt plays and the menu starts again. No key: the
// "timeout" child, or another attempt. After retries attempts: the exit
// prompt, then the "max_retries" child, or "_".
type Menu struct {
	// ID is Kazoo's menu document id, whose settings the menu uses.
	ID string `json:"id,omitempty"`
	// Name is a name for people.
	Name string `json:"name,omitempty"`
	// Retries is how many attempts the caller gets.
	Retries int `json:"retries,omitempty"`
	// Timeout is how long to wait for a first key, in ms.
	Timeout int `json:"timeout,omitempty"`
	// InterdigitTimeout is how long to wait for a next key, in ms.
	InterdigitTimeout int `json:"interdigit_timeout,omitempty"`
	// MaxExtensionLength is the most keys collected.
	MaxExtensionLength int `json:"max_extension_length,omitempty"`
	// Hunt lets the caller dial a number another flow of the account
	// answers (an extension).
	Hunt bool `json:"hunt,omitempty"`
	// HuntAllow, when set, is a pattern a dialled number must match.
	HuntAllow string `json:"hunt_allow,omitempty"`
	// HuntDeny, when set, is a pattern a dialled number must not match.
	HuntDeny string `json:"hunt_deny,omitempty"`
	// Media are the menu's recorded prompts.
	Media MenuMedia `json:"media,omitzero"`
	// Prompts are texts spoken where no media is set (ours).
	Prompts MenuPrompts `json:"prompts,omitzero"`
}

// MenuMedia are Kazoo's menu media: a media id or URL each; the other
// prompts may also be true (the built-in prompt, the default) or false
// (silence).
type MenuMedia struct {
	Greeting      string      `json:"greeting,omitempty"`
	InvalidMedia  mediaToggle `json:"invalid_media,omitzero"`
	ExitMedia     mediaToggle `json:"exit_media,omitzero"`
	TransferMedia mediaToggle `json:"transfer_media,omitzero"`
}

// MenuPrompts are spoken texts (ours): used where the media is not set.
type MenuPrompts struct {
	Greeting string `json:"greeting,omitempty"`
	Invalid  string `json:"invalid,omitempty"`
	Exit     string `json:"exit,omitempty"`
	Transfer string `json:"transfer,omitempty"`
	Voice    string `json:"voice,omitempty"`
	Language string `json:"language,omitempty"`
}

// mediaToggle is Kazoo's boolean-or-media-id prompt setting; unset means
// true.
type mediaToggle struct {
	set   bool
	off   bool
	media string
}

func (m *mediaToggle) UnmarshalJSON(b []byte) error {
	var on bool
	if err := json.Unmarshal(b, &on); err == nil {
		*m = mediaToggle{set: true, off: !on}
		return nil
	}
	var id string
	if err := json.Unmarshal(b, &id); err != nil {
		return errors.New("a media id, true or false")
	}
	*m = mediaToggle{set: true, media: id}
	return nil
}

func (m mediaToggle) MarshalJSON() ([]byte, error) {
	if m.media != "" {
		return json.Marshal(m.media)
	}
	return json.Marshal(!m.off)
}

func (m mediaToggle) IsZero() bool { return !m.set }

// Built-in prompts: Kazoo's system prompts, spoken.
const (
	menuInvalidText  = "That is not a valid selection."
	menuExitText     = "Sorry, we did not get a valid selection."
	menuTransferText = "Please hold while we transfer your call."
	menuGoodbyeText  = "Goodbye."
)

// menuKey is a valid child key of a menu: keys pressed, or a fixed one.
var menuKey = regexp.MustCompile(`^[0-9*#]+$`)

func (a *Menu) retries() int            { return orDefault(a.Retries, 3) }
func (a *Menu) maxLength() int          { return orDefault(a.MaxExtensionLength, 4) }
func (a *Menu) voice() (string, string) { return a.Prompts.Voice, a.Prompts.Language }

// orDefault is n, or def when n is not set (0).
func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// Validate checks the hunt patterns.
func (a *Menu) Validate() error {
	var errs sbschema.ValidationError
	for _, p := range []struct{ field, re string }{{"hunt_allow", a.HuntAllow}, {"hunt_deny", a.HuntDeny}} {
		if p.re == "" {
			continue
		}
		if _, err := regexp.Compile(p.re); err != nil {
			errs = append(errs, sbschema.FieldError{Path: p.field, Rule: "pattern", Message: "Invalid regular expression: " + err.Error(), Value: p.re})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ValidateNode refuses a menu without children, and keys no caller can
// press.
func (a *Menu) ValidateNode(n *engine.Node) error {
	if len(n.Children) == 0 {
		return sbschema.FieldError{Path: "children", Rule: "minProperties", Target: 1,
			Message: "A menu needs at least one option: add a child under a key, timeout, max_retries or _"}
	}
	var errs sbschema.ValidationError
	for _, k := range slices.Sorted(maps.Keys(n.Children)) {
		switch {
		case k == "_" || k == "timeout" || k == "max_retries":
		case !menuKey.MatchString(k):
			errs = append(errs, sbschema.FieldError{Path: "children." + strings.ReplaceAll(k, ".", "%2E"), Rule: "pattern",
				Message: "A menu option is keys (0-9, *, #), timeout, max_retries or _", Value: k})
		case len(k) > a.maxLength() && a.ID == "":
			// With an id, the menu document's max_extension_length (read
			// at call time) decides.
			errs = append(errs, sbschema.FieldError{Path: "children." + k, Rule: "maxLength", Target: a.maxLength(),
				Message: fmt.Sprintf("The menu collects at most %d keys (max_extension_length): no caller can press %s", a.maxLength(), k), Value: k})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Exec runs the menu.
func (a *Menu) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	a = a.settings(ctx, x)
	if err := x.Call.Answer(ctx); err != nil {
		return "", err
	}
	voice, lang := a.voice()
	greeting := announcement{media: a.Media.Greeting, text: a.Prompts.Greeting, voice: voice, language: lang}
	o := call.GatherOptions{
		NumDigits:         a.digits(x.Node),
		Timeout:           ms(orDefault(a.Timeout, 10000)),
		InterDigitTimeout: ms(orDefault(a.InterdigitTimeout, 2000)),
		FinishOnKey:       "#",
		Prompts:           greeting.prompts(x),
	}
	for k := range x.Node.Children {
		if strings.Contains(k, "#") {
			o.FinishOnKey = "" // # is an option, not the end of an entry
		}
	}
	for range a.retries() {
		digits, err := x.Call.Gather(ctx, o)
		if err != nil {
			return "", err
		}
		if digits == "" {
			if x.HasChild("timeout") {
				traceBranch(x, "timeout")
				return "timeout", nil
			}
			continue
		}
		if x.HasChild(digits) {
			traceBranch(x, digits, "digits", digits)
			return digits, nil
		}
		if found, err := a.hunt(ctx, x, digits); err != nil || found {
			return "_", err
		}
		if err := a.prompt(a.Media.InvalidMedia, a.Prompts.Invalid, menuInvalidText).play(ctx, x); err != nil {
			return "", err
		}
	}
	if err := a.prompt(a.Media.ExitMedia, a.Prompts.Exit, menuExitText).play(ctx, x); err != nil {
		return "", err
	}
	switch {
	case x.HasChild("max_retries"):
		traceBranch(x, "max_retries")
		return "max_retries", nil
	case x.HasChild("_"):
		if err := a.prompt(a.Media.TransferMedia, a.Prompts.Transfer, menuTransferText).play(ctx, x); err != nil {
			return "", err
		}
	default:
		if err := (announcement{text: menuGoodbyeText, voice: voice, language: lang}).play(ctx, x); err != nil {
			return "", err
		}
	}
	traceBranch(x, "_")
	return "_", nil
}

// digits is how many keys to collect: max_extension_length when hunting,
// else no more than the longest option, so a one-key menu answers at once.
func (a *Menu) digits(n *engine.Node) int {
	if a.Hunt {
		return a.maxLength()
	}
	longest := 0
	for k := range n.Children {
		if menuKey.MatchString(k) {
			longest = max(longest, len(k))
		}
	}
	if longest == 0 {
		return a.maxLength()
	}
	return min(longest, a.maxLength())
}

// prompt is one of the menu's other prompts: its media, its text, or the
// built-in text; empty when the media is false.
func (a *Menu) prompt(m mediaToggle, text, builtin string) announcement {
	voice, lang := a.voice()
	switch {
	case m.off:
		return announcement{}
	case m.media != "":
		return announcement{media: m.media}
	case text != "":
		return announcement{text: text, voice: voice, language: lang}
	}
	return announcement{text: builtin, voice: voice, language: lang}
}

// hunt looks digits up as a number of the account (dial-by-extension). It
// reports whether the call goes on in the flow found.
func (a *Menu) hunt(ctx context.Context, x *engine.Exec, digits string) (bool, error) {
	if !a.Hunt {
		return false, nil
	}
	numbers := deps(x).Numbers
	if numbers == nil {
		x.Log.Warn("menu hunt skipped: no number router configured")
		return false, nil
	}
	for _, p := range []struct {
		re   string
		want bool
	}{{a.HuntAllow, true}, {a.HuntDeny, false}} {
		if p.re == "" {
			continue
		}
		re, err := regexp.Compile(p.re)
		if err != nil || re.MatchString(digits) != p.want {
			return false, nil
		}
	}
	id, root, err := numbers.RouteNumber(ctx, x.Account.ID, digits)
	if err != nil {
		x.Trace.Add("error", "code", "hunt_failed", "message", err.Error(), "module", x.Node.Module, "node", x.Node.Path)
		x.Log.Warn("menu hunt failed", "number", digits, "err", err)
		return false, nil
	}
	if root == nil {
		return false, nil
	}
	if err := a.prompt(a.Media.TransferMedia, a.Prompts.Transfer, menuTransferText).play(ctx, x); err != nil {
		return false, err
	}
	x.Trace.Add("route", "number", digits, "callflow_id", id, "module", x.Node.Module, "node", x.Node.Path)
	x.Continue(root)
	return true, nil
}

var (
	_ engine.Action        = (*Menu)(nil)
	_ engine.Validator     = (*Menu)(nil)
	_ engine.NodeValidator = (*Menu)(nil)
)
