package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
	sbschema "github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/temporal"
)

func init() {
	engine.Register(engine.Spec{
		Name: "temporal_route", Group: "Time of Day", Label: "Time of day", Icon: "clock",
		Doc:    "Branch by time-of-day rules: the first rule active now, else _.",
		Schema: schema("temporal_route"), Branches: nil, // rule ids, rule-set ids, and "_"
		New: func() engine.Action { return new(TemporalRoute) },
	})
}

// TemporalRules is what temporal_route reads and changes of the stored
// rules (the SQLite store).
type TemporalRules interface {
	GetTemporal(ctx context.Context, kind store.TemporalKind, accountID, id string) (store.TemporalDoc, error)
	SetTemporalRuleEnabled(ctx context.Context, accountID, id string, enabled *bool) (store.TemporalDoc, error)
}

// TemporalRoute routes by time of day (Kazoo's temporal_route). The rules
// tried, in order: those of rules, then the node's child keys (Kazoo reads
// them as rule ids too), then those of rule_set. An id that names a rule
// set stands for its rules. The first rule active now takes the child named
// after its id (or after its set's id); no rule active: "_".
//
// Each rule is read in its own timezone, else the block's, else the
// account's (Kazoo's account timezone), else UTC. With
// action enable, disable or reset the block instead forces the listed rules
// on or off, or returns them to their schedule, and ends the call (a
// feature code); menu asks the caller which.
type TemporalRoute struct {
	Rules             []string `json:"rules,omitempty"`
	RuleSet           string   `json:"rule_set,omitempty"`
	Timezone          string   `json:"timezone,omitempty"`
	Action            string   `json:"action,omitempty"`
	InterdigitTimeout int      `json:"interdigit_timeout,omitempty"`
}

var errNoTemporalRules = errors.New("no temporal rule store configured")

// Validate checks the timezone.
func (a *TemporalRoute) Validate() error {
	if _, err := temporal.LoadLocation(a.Timezone); err != nil {
		return sbschema.FieldError{Path: "timezone", Rule: "enum", Message: "Unknown time zone: use an IANA name such as Europe/Paris", Value: a.Timezone}
	}
	return nil
}

// Exec routes, or runs the override action.
func (a *TemporalRoute) Exec(ctx context.Context, x *engine.Exec) (string, error) {
	svc := deps(x).TemporalRules
	if svc == nil {
		return "_", errNoTemporalRules
	}
	switch a.Action {
	case "enable", "disable", "reset":
		return engine.BranchEnd, a.override(ctx, x, svc, a.Action)
	case "menu":
		return engine.BranchEnd, a.menu(ctx, x, svc)
	}
	zone := a.Timezone
	if zone == "" {
		zone = x.Account.Timezone
	}
	loc, err := temporal.LoadLocation(zone)
	if err != nil {
		return "_", err
	}
	now := x.Now()
	local := now.In(loc).Format(time.RFC3339)
	for _, r := range a.routes(ctx, x, svc) {
		if r.rule.Active(now, loc) {
			traceBranch(x, r.key, "rule", r.rule.ID, "name", r.rule.Name, "local_time", local, "timezone", loc.String())
			return r.key, nil
		}
	}
	traceBranch(x, "_", "local_time", local, "timezone", loc.String())
	return "_", nil
}

// route is one rule to try and the child key it takes.
type route struct {
	rule *temporal.Rule
	key  string
}

// routes loads the rules to try, in order. A rule that is missing or
// unreadable gets an error line and is left out.
func (a *TemporalRoute) routes(ctx context.Context, x *engine.Exec, svc TemporalRules) []route {
	type ref struct {
		id, key string
		inSet   bool // a rule of a set: never itself a set
	}
	var refs []ref
	seen := map[string]bool{}
	for _, id := range a.Rules {
		if !seen[id] {
			seen[id] = true
			refs = append(refs, ref{id: id, key: id})
		}
	}
	keys := make([]string, 0, len(x.Node.Children))
	for k := range x.Node.Children {
		if k != "_" && k != "rule_set" && !seen[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		seen[k] = true
		refs = append(refs, ref{id: k, key: k})
	}
	if a.RuleSet != "" {
		key := a.RuleSet
		if !x.HasChild(key) && x.HasChild("rule_set") {
			key = "rule_set" // Kazoo's key for the rules of rule_set
		}
		for _, id := range a.setRules(ctx, x, svc, a.RuleSet) {
			refs = append(refs, ref{id: id, key: key, inSet: true})
		}
	}
	var out []route
	for _, r := range refs {
		kind := store.TemporalKind("")
		if r.inSet {
			kind = store.TemporalRuleKind
		}
		doc, err := svc.GetTemporal(ctx, kind, x.Account.ID, r.id)
		if err != nil {
			temporalError(x, "temporal_rule_not_found", fmt.Errorf("temporal rule %s: %w", r.id, err))
			continue
		}
		if doc.Kind == store.TemporalRuleSetKind {
			for _, id := range a.setRules(ctx, x, svc, r.id) {
				if rule := loadRule(ctx, x, svc, id); rule != nil {
					out = append(out, route{rule: rule, key: r.key})
				}
			}
			continue
		}
		rule, err := temporal.ParseRule(doc.Body)
		if err != nil {
			temporalError(x, "temporal_rule_invalid", fmt.Errorf("temporal rule %s: %w", r.id, err))
			continue
		}
		rule.ID = doc.ID
		out = append(out, route{rule: rule, key: r.key})
	}
	return out
}

// setRules reads a rule set's rule ids.
func (a *TemporalRoute) setRules(ctx context.Context, x *engine.Exec, svc TemporalRules, id string) []string {
	doc, err := svc.GetTemporal(ctx, store.TemporalRuleSetKind, x.Account.ID, id)
	if err != nil {
		temporalError(x, "temporal_rule_not_found", fmt.Errorf("temporal rule set %s: %w", id, err))
		return nil
	}
	set, err := temporal.ParseRuleSet(doc.Body)
	if err != nil {
		temporalError(x, "temporal_rule_invalid", fmt.Errorf("temporal rule set %s: %w", id, err))
		return nil
	}
	return set.Rules
}

func loadRule(ctx context.Context, x *engine.Exec, svc TemporalRules, id string) *temporal.Rule {
	doc, err := svc.GetTemporal(ctx, store.TemporalRuleKind, x.Account.ID, id)
	if err != nil {
		temporalError(x, "temporal_rule_not_found", fmt.Errorf("temporal rule %s: %w", id, err))
		return nil
	}
	rule, err := temporal.ParseRule(doc.Body)
	if err != nil {
		temporalError(x, "temporal_rule_invalid", fmt.Errorf("temporal rule %s: %w", id, err))
		return nil
	}
	rule.ID = doc.ID
	return rule
}

// temporalError writes an error line the module survives.
func temporalError(x *engine.Exec, code string, err error) {
	x.Trace.Add("error", "code", code, "message", err.Error(), "module", x.Node.Module, "node", x.Node.Path)
	x.Log.Warn("temporal rule skipped", "err", err)
}

// ruleIDs are the rules an override applies to: rules (a set's id stands
// for its rules) and the rules of rule_set.
func (a *TemporalRoute) ruleIDs(ctx context.Context, x *engine.Exec, svc TemporalRules) []string {
	var ids []string
	add := func(id string) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range a.Rules {
		doc, err := svc.GetTemporal(ctx, "", x.Account.ID, id)
		switch {
		case err != nil:
			temporalError(x, "temporal_rule_not_found", fmt.Errorf("temporal rule %s: %w", id, err))
		case doc.Kind == store.TemporalRuleSetKind:
			for _, rid := range a.setRules(ctx, x, svc, id) {
				add(rid)
			}
		default:
			add(id)
		}
	}
	if a.RuleSet != "" {
		for _, rid := range a.setRules(ctx, x, svc, a.RuleSet) {
			add(rid)
		}
	}
	return ids
}

// Override prompts (Kazoo's tod-* system prompts), spoken.
const (
	todMenu     = "To turn the time of day rules on, press 1. To turn them off, press 2. To return them to their schedule, press 3."
	todEnabled  = "The time of day rules are now on."
	todDisabled = "The time of day rules are now off."
	todReset    = "The time of day rules follow their schedule again."
)

// override forces the rules on, off, or back to their schedule, and says
// so; a "temporal_rules" line lists them.
func (a *TemporalRoute) override(ctx context.Context, x *engine.Exec, svc TemporalRules, action string) error {
	var enabled *bool
	text := todReset
	switch action {
	case "enable":
		enabled, text = new(true), todEnabled
	case "disable":
		enabled, text = new(false), todDisabled
	}
	ids := a.ruleIDs(ctx, x, svc)
	var changed []string
	for _, id := range ids {
		if _, err := svc.SetTemporalRuleEnabled(ctx, x.Account.ID, id, enabled); err != nil {
			temporalError(x, "temporal_rule_not_saved", fmt.Errorf("temporal rule %s: %w", id, err))
			continue
		}
		changed = append(changed, id)
	}
	var state any // null: back to the schedule
	if enabled != nil {
		state = *enabled
	}
	x.Trace.Add("temporal_rules", "action", action, "rules", changed, "enabled", state, "module", x.Node.Module, "node", x.Node.Path)
	return (announcement{text: text}).play(ctx, x)
}

// menu asks the caller to turn the rules on (1), off (2) or back to their
// schedule (3), three times at most.
func (a *TemporalRoute) menu(ctx context.Context, x *engine.Exec, svc TemporalRules) error {
	if err := x.Call.Answer(ctx); err != nil {
		return err
	}
	interdigit := defaultInterdigit
	if a.InterdigitTimeout > 0 {
		interdigit = ms(a.InterdigitTimeout)
	}
	o := call.GatherOptions{NumDigits: 1, Timeout: defaultCollectTimeout, InterDigitTimeout: interdigit,
		Prompts: (announcement{text: todMenu}).prompts(x)}
	for range 3 {
		digits, err := x.Call.Gather(ctx, o)
		if err != nil {
			return err
		}
		if action, ok := map[string]string{"1": "enable", "2": "disable", "3": "reset"}[digits]; ok {
			return a.override(ctx, x, svc, action)
		}
	}
	return nil
}

var (
	_ engine.Action    = (*TemporalRoute)(nil)
	_ engine.Validator = (*TemporalRoute)(nil)
)
