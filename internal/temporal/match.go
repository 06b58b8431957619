package temporal

import (
	"slices"
	"time"
)

// Active reports whether the rule applies at now. The rule's own zone
// wins over loc (the module's; nil is UTC). An Enabled override decides
// alone; otherwise now's local day must be an occurrence of the rule (on or
// after its start date, on or before its end date) and now's local time of
// day within the window, both ends included, as Kazoo.
func (r *Rule) Active(now time.Time, loc *time.Location) bool {
	if r.Enabled != nil {
		return *r.Enabled
	}
	if r.Location != nil {
		loc = r.Location
	}
	if loc == nil {
		loc = time.UTC
	}
	t := now.In(loc)
	day := DateOf(t)
	sec := t.Hour()*3600 + t.Minute()*60 + t.Second()
	if r.WindowStart <= r.WindowStop {
		return sec >= r.WindowStart && sec <= r.WindowStop && r.Occurs(day, loc)
	}
	// Across midnight: the evening of an occurrence day, or the morning
	// after one.
	return (sec >= r.WindowStart && r.Occurs(day, loc)) ||
		(sec <= r.WindowStop && r.Occurs(day.add(-1), loc))
}

// Occurs reports whether day is a day the rule applies on (its window
// aside). loc places the start and end dates given in Gregorian seconds.
func (r *Rule) Occurs(day Date, loc *time.Location) bool {
	if r.Location != nil {
		loc = r.Location
	}
	if loc == nil {
		loc = time.UTC
	}
	start := r.start.in(loc)
	if day.days() < start.days() {
		return false // Kazoo discards rules that start in the future
	}
	if r.end.set && day.days() > r.end.in(loc).days() {
		return false
	}
	interval := max(r.Interval, 1)
	switch r.Cycle {
	case "date":
		return day == start
	case "daily":
		return (day.days()-start.days())%interval == 0
	case "weekly":
		weeks := (monday(day).days() - monday(start).days()) / 7
		return weeks%interval == 0 && slices.Contains(r.Wdays, day.weekday())
	case "monthly":
		months := (day.Year-start.Year)*12 + int(day.Month) - int(start.Month)
		return months%interval == 0 && r.dayMatches(day)
	case "yearly":
		return (day.Year-start.Year)%interval == 0 && day.Month == r.Month && r.dayMatches(day)
	}
	return false
}

// dayMatches applies days, or ordinal with wdays, to a day of a month that
// is an occurrence.
func (r *Rule) dayMatches(day Date) bool {
	if len(r.Days) > 0 {
		return slices.Contains(r.Days, day.Day)
	}
	if !slices.Contains(r.Wdays, day.weekday()) {
		return false
	}
	nth := (day.Day-1)/7 + 1 // the first, second … of this weekday in the month
	switch r.Ordinal {
	case "every":
		return true
	case "first":
		return nth == 1
	case "second":
		return nth == 2
	case "third":
		return nth == 3
	case "fourth":
		return nth == 4
	case "fifth":
		return nth == 5
	case "last":
		return day.Day+7 > daysIn(day.Year, day.Month)
	}
	return false
}

// monday is the Monday of day's ISO week.
func monday(day Date) Date {
	wd := int(day.weekday()) // Sunday = 0
	back := (wd + 6) % 7
	return day.add(-back)
}
