package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/temporal"
)

// Whether time-of-day rules are active now (or at ?at=), judged by the
// package the temporal_route module runs (internal/temporal), so the
// configurator's "Open now / Closed now" badge and a real call agree:
// GET …/temporal_rules/{rule_id}/status for one rule or set, and
// GET …/temporal_rules/status?ids=a,b for the rules a block names.

// maxStatusIDs bounds one batch.
const maxStatusIDs = 100

// ruleStatus is a rule's answer; a set lists its rules' too.
type ruleStatus struct {
	ID        string       `json:"id"`
	Kind      string       `json:"kind"` // "rule" or "set"
	Name      string       `json:"name"`
	Active    bool         `json:"active"`
	Timezone  string       `json:"timezone,omitempty"`
	LocalTime string       `json:"local_time,omitempty"`
	Enabled   *bool        `json:"enabled,omitempty"` // a forced on/off (temporal_route enable/disable)
	Rules     []ruleStatus `json:"rules,omitempty"`
	Error     string       `json:"error,omitempty"`
}

func (a *API) temporalStore() (store.TemporalStore, error) {
	if t, ok := a.store.(store.TemporalStore); ok {
		return t, nil
	}
	return nil, &Error{Status: http.StatusServiceUnavailable, Message: "temporal rules unavailable"}
}

// statusQuery reads ?at= (RFC 3339; default now) and ?timezone= (the
// block's zone, for rules without their own; default UTC).
func (a *API) statusQuery(r *http.Request) (time.Time, *time.Location, error) {
	q := r.URL.Query()
	at := a.now()
	if s := q.Get("at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, nil, fieldError(http.StatusBadRequest, "validation failed", "at", "format",
				"at is a date and time with its offset, RFC 3339: 2026-12-07T10:00:00Z")
		}
		at = t
	}
	loc, err := temporal.LoadLocation(q.Get("timezone"))
	if err != nil {
		return time.Time{}, nil, fieldError(http.StatusBadRequest, "validation failed", "timezone", "enum",
			"Unknown time zone: use an IANA name such as Europe/Paris")
	}
	return at, loc, nil
}

// temporalStatusOne answers GET …/temporal_rules/{rule_id}/status.
func (a *API) temporalStatusOne(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.temporalStore()
	if err != nil {
		return err
	}
	at, loc, err := a.statusQuery(r)
	if err != nil {
		return err
	}
	st, err := a.judge(r, ts, r.PathValue("rule_id"), at, loc)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, st, "", nil)
}

// temporalStatusList answers GET …/temporal_rules/status?ids=a,b: one
// answer per id, in order; an unknown id answers with an error, not a 404
// for the lot (a block may name a rule since deleted).
func (a *API) temporalStatusList(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.temporalStore()
	if err != nil {
		return err
	}
	at, loc, err := a.statusQuery(r)
	if err != nil {
		return err
	}
	var ids []string
	seen := map[string]bool{}
	for _, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return fieldError(http.StatusBadRequest, "validation failed", "ids", "required", "ids lists rule or rule-set ids, separated by commas")
	}
	if len(ids) > maxStatusIDs {
		return fieldError(http.StatusBadRequest, "validation failed", "ids", "maxItems", fmt.Sprintf("at most %d ids at once", maxStatusIDs))
	}
	out := make([]ruleStatus, 0, len(ids))
	for _, id := range ids {
		st, err := a.judge(r, ts, id, at, loc)
		if errors.Is(err, store.ErrNotFound) {
			out = append(out, ruleStatus{ID: id, Error: "No time-of-day rule has this id"})
			continue
		}
		if err != nil {
			return err
		}
		out = append(out, st)
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// ruleStatus judges one rule, or a set (active when one of its rules is:
// temporal_route takes the set's branch then).
func (a *API) judge(r *http.Request, ts store.TemporalStore, id string, at time.Time, loc *time.Location) (ruleStatus, error) {
	doc, err := ts.GetTemporal(r.Context(), "", accountOf(r), id)
	if err != nil {
		return ruleStatus{}, err
	}
	if doc.Kind != store.TemporalRuleSetKind {
		return judgeRule(doc, at, loc), nil
	}
	set, err := temporal.ParseRuleSet(doc.Body)
	if err != nil {
		return ruleStatus{ID: doc.ID, Kind: "set", Name: doc.Name, Error: "This rule set cannot be read: " + err.Error()}, nil
	}
	st := ruleStatus{ID: doc.ID, Kind: "set", Name: set.Name}
	for _, rid := range set.Rules {
		rd, err := ts.GetTemporal(r.Context(), store.TemporalRuleKind, accountOf(r), rid)
		if err != nil {
			st.Rules = append(st.Rules, ruleStatus{ID: rid, Kind: "rule", Error: "No time-of-day rule has this id"})
			continue
		}
		rs := judgeRule(rd, at, loc)
		st.Active = st.Active || rs.Active
		st.Rules = append(st.Rules, rs)
	}
	return st, nil
}

// judgeRule says whether a rule is active at at; a rule that cannot be
// read (the module skips it) says so in Error.
func judgeRule(doc store.TemporalDoc, at time.Time, loc *time.Location) ruleStatus {
	rule, err := temporal.ParseRule(doc.Body)
	if err != nil {
		return ruleStatus{ID: doc.ID, Kind: "rule", Name: doc.Name, Error: "This rule cannot be read: " + err.Error()}
	}
	zone := loc
	if rule.Location != nil {
		zone = rule.Location
	}
	return ruleStatus{
		ID: doc.ID, Kind: "rule", Name: rule.Name, Active: rule.Active(at, loc), Enabled: rule.Enabled,
		Timezone: zone.String(), LocalTime: at.In(zone).Format(time.RFC3339),
	}
}
