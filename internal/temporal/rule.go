// Package temporal reads Kazoo's temporal rules (time-of-day rules: a
// cycle, days, weekdays, a time window) and rule sets, and says whether a
// rule is active at a given time. The temporal_route module and the
// temporal_rules API use it; it knows nothing of the store.
package temporal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zones work without the system's zoneinfo

	"github.com/switchboard/switchboard/internal/schema"
)

// Kazoo's defaults (cf_temporal_route.hrl, temporal_rules.json).
const (
	// DefaultStartDate is Kazoo's start_date default, in Gregorian seconds
	// (1983-04-11 08:00 UTC).
	DefaultStartDate = 62586115200
	// gregorianUnix is 1970-01-01 in Gregorian seconds (seconds since year 0).
	gregorianUnix = 62167219200
	// DaySeconds bounds time_window_start and time_window_stop.
	DaySeconds = 86400
)

// Cycles, ordinals and weekdays as Kazoo spells them.
var (
	Cycles   = []string{"date", "daily", "weekly", "monthly", "yearly"}
	Ordinals = []string{"every", "first", "second", "third", "fourth", "fifth", "last"}
	weekdays = map[string]time.Weekday{
		"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
		"wensday":  time.Wednesday, // Kazoo's historic spelling, still accepted
		"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
	}
)

// Date is a calendar day, without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is t's calendar day in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// days counts days since 1970-01-01 (exact: computed at UTC midnight).
func (d Date) days() int {
	return int(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / DaySeconds)
}

// add moves d by n days.
func (d Date) add(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

func (d Date) weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// when is a start_date or end_date as given: Gregorian seconds (Kazoo), or
// an ISO date ("2025-12-25") or date-time (RFC 3339).
type when struct {
	set     bool
	seconds int64     // Gregorian seconds, when given as a number
	date    Date      // when given as a date
	instant time.Time // when given as an RFC 3339 date-time
	isDate  bool
}

// in is the calendar day of w in loc (Kazoo converts start_date to the
// rule's zone before taking its date).
func (w when) in(loc *time.Location) Date {
	switch {
	case w.isDate:
		return w.date
	case !w.instant.IsZero():
		return DateOf(w.instant.In(loc))
	}
	return DateOf(time.Unix(w.seconds-gregorianUnix, 0).In(loc))
}

// Rule is a temporal rule document, read and checked.
type Rule struct {
	ID       string
	Name     string
	Cycle    string // date, daily, weekly, monthly, yearly
	Interval int    // every Interval days, weeks, months or years (≥ 1)
	Days     []int  // days of the month, 1–31
	Wdays    []time.Weekday
	Ordinal  string     // every, first … fifth, last: which of the Wdays in the month
	Month    time.Month // yearly rules
	// WindowStart and WindowStop are seconds from local midnight, both
	// included (as Kazoo). A start after the stop is a window across
	// midnight: from the start on an occurrence day to the stop the next
	// day (ours; Kazoo never matches such a rule).
	WindowStart, WindowStop int
	// Timezone is the rule's own zone (ours): it wins over the module's.
	Timezone string
	Location *time.Location // Timezone loaded; nil when none
	// Enabled forces the rule on (true) or off (false); nil follows the
	// schedule. temporal_route's enable, disable and reset set it.
	Enabled *bool

	start, end when
}

// ParseRule reads a temporal rule document and checks every field, so that
// a rule that can never make sense (time_window_start 90000, month 13, day
// 32, 31 April, an unknown weekday) is refused when it is saved. The error
// is a schema.ValidationError with paths relative to the document
// ("days.0"), or a plain error when body is not a JSON object.
func ParseRule(body []byte) (*Rule, error) {
	doc, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	v := &checker{doc: doc}
	r := &Rule{Interval: 1, WindowStart: 0, WindowStop: DaySeconds}
	r.ID = v.str("id", false, 0, 0)
	r.Name = v.str("name", true, 1, 128)
	r.Cycle = v.enum("cycle", true, Cycles)
	if n, ok := v.integer("interval", 1, 1<<20); ok {
		r.Interval = n
	}
	r.Days = v.days()
	r.Wdays = v.wdays()
	r.Ordinal = v.enum("ordinal", false, Ordinals)
	if n, ok := v.integer("month", 1, 12); ok {
		r.Month = time.Month(n)
	}
	if n, ok := v.integer("time_window_start", 0, DaySeconds); ok {
		r.WindowStart = n
	}
	if n, ok := v.integer("time_window_stop", 0, DaySeconds); ok {
		r.WindowStop = n
	}
	r.start = v.when("start_date")
	r.end = v.when("end_date")
	if tz := v.str("timezone", false, 1, 64); tz != "" {
		if loc, err := LoadLocation(tz); err != nil {
			v.add("timezone", "enum", "Unknown time zone: use an IANA name such as Europe/Paris", tz)
		} else {
			r.Timezone, r.Location = tz, loc
		}
	}
	if e, ok := doc["enabled"]; ok && e != nil {
		if b, ok := e.(bool); ok {
			r.Enabled = &b
		} else {
			v.add("enabled", "type", "Value did not match type: boolean", e)
		}
	}
	if !r.start.set {
		r.start = when{set: true, seconds: DefaultStartDate}
		if r.Cycle == "date" {
			v.add("start_date", "required", "A date rule needs the date it applies on", nil)
		}
	}
	v.shape(r)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return r, nil
}

// shape checks what the fields mean together.
func (v *checker) shape(r *Rule) {
	if v.errs.Failed("cycle") || v.errs.Failed("days") || v.errs.Failed("wdays") || v.errs.Failed("month") || v.errs.Failed("ordinal") {
		return
	}
	switch r.Cycle {
	case "weekly":
		if len(r.Wdays) == 0 {
			v.add("wdays", "required", "A weekly rule needs at least one weekday", nil)
		}
	case "monthly", "yearly":
		if len(r.Days) == 0 && (r.Ordinal == "" || len(r.Wdays) == 0) {
			v.add("days", "required", "A "+r.Cycle+" rule needs days, or an ordinal with wdays", nil)
		}
		if r.Ordinal != "" && len(r.Days) == 0 && len(r.Wdays) == 0 {
			v.add("wdays", "required", "An ordinal needs the weekday it counts", nil)
		}
	}
	if r.Cycle == "yearly" {
		if r.Month == 0 {
			v.add("month", "required", "A yearly rule needs its month", nil)
			return
		}
		for i, d := range r.Days {
			if d > daysIn(2024, r.Month) { // 2024 is a leap year: 29 February exists
				v.add("days."+strconv.Itoa(i), "maximum", fmt.Sprintf("%s has no day %d", r.Month, d), d)
			}
		}
	}
	if r.end.set && !v.errs.Failed("end_date") && !v.errs.Failed("start_date") {
		loc := r.Location
		if loc == nil {
			loc = time.UTC
		}
		if !(r.end.isDate || r.end.seconds != 0 || !r.end.instant.IsZero()) {
			r.end = when{} // 0: no end date (Kazoo)
		} else if r.end.in(loc).days() < r.start.in(loc).days() {
			v.add("end_date", "minimum", "The end date is before the start date", nil)
		}
	}
}

// RuleSet is a temporal rule set document: a name and rule ids.
type RuleSet struct {
	ID    string
	Name  string
	Rules []string
}

// ParseRuleSet reads and checks a rule set document ({name,
// temporal_rules: [ids]}).
func ParseRuleSet(body []byte) (*RuleSet, error) {
	doc, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	v := &checker{doc: doc}
	s := &RuleSet{}
	s.ID = v.str("id", false, 0, 0)
	s.Name = v.str("name", true, 1, 128)
	switch list := doc["temporal_rules"].(type) {
	case nil:
	case []any:
		for i, e := range list {
			id, ok := e.(string)
			if !ok || id == "" {
				v.add("temporal_rules."+strconv.Itoa(i), "type", "Value did not match type: string (a rule id)", e)
				continue
			}
			if slices.Contains(s.Rules, id) {
				v.add("temporal_rules", "uniqueItems", "List of items is not unique", id)
				continue
			}
			s.Rules = append(s.Rules, id)
		}
	default:
		v.add("temporal_rules", "type", "Value did not match type: array", list)
	}
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return s, nil
}

// LoadLocation loads an IANA zone; "" is UTC. Zones come with the binary
// (time/tzdata), so a host without zoneinfo works too.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if strings.EqualFold(name, "local") {
		return nil, errors.New("the server's local zone is not a zone: name one")
	}
	return time.LoadLocation(name)
}

// ---- reading the document ----

func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("temporal: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("temporal: invalid JSON: more data after the document")
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, schema.ValidationError{{Path: "data", Rule: "type", Message: "Value did not match type: object", Target: "object"}}
	}
	return doc, nil
}

type checker struct {
	doc  map[string]any
	errs schema.ValidationError
}

func (v *checker) add(path, rule, msg string, value any) {
	v.errs = append(v.errs, schema.FieldError{Path: path, Rule: rule, Message: msg, Value: value})
}

func (v *checker) str(key string, required bool, minLen, maxLen int) string {
	raw, ok := v.doc[key]
	if !ok || raw == nil {
		if required {
			v.add(key, "required", "Field is required but missing", nil)
		}
		return ""
	}
	s, ok := raw.(string)
	switch {
	case !ok:
		v.add(key, "type", "Value did not match type: string", raw)
	case minLen > 0 && len([]rune(s)) < minLen:
		v.add(key, "minLength", fmt.Sprintf("String must be at least %d characters", minLen), s)
	case maxLen > 0 && len([]rune(s)) > maxLen:
		v.add(key, "maxLength", fmt.Sprintf("String must not be more than %d characters", maxLen), s)
	default:
		return s
	}
	return ""
}

func (v *checker) enum(key string, required bool, allowed []string) string {
	s := v.str(key, required, 0, 0)
	if s == "" {
		if _, given := v.doc[key]; given && !v.errs.Failed(key) {
			v.add(key, "enum", "Value not found in enumerated list of values", s)
		}
		return ""
	}
	if !slices.Contains(allowed, s) {
		v.add(key, "enum", "Value not found in enumerated list of values: "+strings.Join(allowed, ", "), s)
		return ""
	}
	return s
}

// intValue reads a JSON integer.
func intValue(raw any) (int64, bool) {
	n, ok := raw.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func (v *checker) integer(key string, lo, hi int) (int, bool) {
	raw, ok := v.doc[key]
	if !ok || raw == nil {
		return 0, false
	}
	return v.intAt(key, raw, lo, hi)
}

func (v *checker) intAt(path string, raw any, lo, hi int) (int, bool) {
	n, ok := intValue(raw)
	switch {
	case !ok:
		v.add(path, "type", "Value did not match type: integer", raw)
	case n < int64(lo):
		v.add(path, "minimum", fmt.Sprintf("Value must be at least %d", lo), raw)
	case n > int64(hi):
		v.add(path, "maximum", fmt.Sprintf("Value must be at most %d", hi), raw)
	default:
		return int(n), true
	}
	return 0, false
}

func (v *checker) days() []int {
	raw, ok := v.doc["days"]
	if !ok || raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		v.add("days", "type", "Value did not match type: array", raw)
		return nil
	}
	var out []int
	for i, e := range list {
		// Kazoo stores days as integers, and old clients as strings ("15").
		if s, ok := e.(string); ok {
			e = json.Number(s)
		}
		if d, ok := v.intAt("days."+strconv.Itoa(i), e, 1, 31); ok && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

func (v *checker) wdays() []time.Weekday {
	raw, ok := v.doc["wdays"]
	if !ok || raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		v.add("wdays", "type", "Value did not match type: array", raw)
		return nil
	}
	var out []time.Weekday
	for i, e := range list {
		s, _ := e.(string)
		wd, ok := weekdays[strings.ToLower(s)]
		if !ok {
			v.add("wdays."+strconv.Itoa(i), "enum", "Value not found in enumerated list of values: monday … sunday", e)
			continue
		}
		if !slices.Contains(out, wd) {
			out = append(out, wd)
		}
	}
	return out
}

func (v *checker) when(key string) when {
	raw, ok := v.doc[key]
	if !ok || raw == nil {
		return when{}
	}
	switch x := raw.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil || n < 0 {
			v.add(key, "type", "Gregorian seconds (a whole number, as Kazoo) or an ISO date such as 2025-12-25", raw)
			return when{}
		}
		return when{set: true, seconds: n}
	case string:
		if d, err := time.Parse(time.DateOnly, x); err == nil {
			return when{set: true, date: DateOf(d), isDate: true}
		}
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			return when{set: true, instant: t}
		}
	}
	v.add(key, "format", "Gregorian seconds (a whole number, as Kazoo) or an ISO date such as 2025-12-25", raw)
	return when{}
}

// daysIn is the number of days of a month.
func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
