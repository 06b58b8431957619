package temporal_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/temporal"
)

func mustRule(t *testing.T, body string) *temporal.Rule {
	t.Helper()
	r, err := temporal.ParseRule([]byte(body))
	if err != nil {
		t.Fatalf("ParseRule(%s): %v", body, err)
	}
	return r
}

// at is a wall time in a zone.
func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestActive(t *testing.T) {
	const (
		officeHours = `{"name":"Office hours","cycle":"weekly","wdays":["monday","tuesday","wednesday","thursday","friday"],"time_window_start":32400,"time_window_stop":61200}`
		christmas   = `{"name":"Christmas","cycle":"yearly","month":12,"days":[25]}`
		thanksgiv   = `{"name":"Thanksgiving","cycle":"yearly","month":11,"ordinal":"fourth","wdays":["thursday"]}`
		memorial    = `{"name":"Memorial Day","cycle":"yearly","month":5,"ordinal":"last","wdays":["monday"]}`
	)
	for _, tc := range []struct {
		name, rule, zone, now string
		want                  bool
	}{
		// weekly office hours, window ends included (as Kazoo)
		{"weekday morning", officeHours, "UTC", "2025-06-03 09:00:00", true},
		{"weekday before opening", officeHours, "UTC", "2025-06-03 08:59:59", false},
		{"weekday at closing", officeHours, "UTC", "2025-06-03 17:00:00", true},
		{"weekday after closing", officeHours, "UTC", "2025-06-03 17:00:01", false},
		{"saturday", officeHours, "UTC", "2025-06-07 10:00:00", false},
		{"wensday spelling", `{"name":"w","cycle":"weekly","wdays":["wensday"]}`, "UTC", "2025-06-04 10:00:00", true},
		// holidays
		{"christmas", christmas, "UTC", "2025-12-25 12:00:00", true},
		{"christmas eve", christmas, "UTC", "2025-12-24 23:59:59", false},
		{"thanksgiving 2025", thanksgiv, "UTC", "2025-11-27 10:00:00", true},
		{"a week before", thanksgiv, "UTC", "2025-11-20 10:00:00", false},
		{"memorial day 2025", memorial, "UTC", "2025-05-26 10:00:00", true},
		{"the monday before", memorial, "UTC", "2025-05-19 10:00:00", false},
		{"29 february", `{"name":"leap","cycle":"yearly","month":2,"days":[29]}`, "UTC", "2028-02-29 10:00:00", true},
		// monthly
		{"monthly day", `{"name":"m","cycle":"monthly","days":[1,15]}`, "UTC", "2025-07-15 00:00:00", true},
		{"monthly other day", `{"name":"m","cycle":"monthly","days":[1,15]}`, "UTC", "2025-07-16 00:00:00", false},
		{"first friday", `{"name":"m","cycle":"monthly","ordinal":"first","wdays":["friday"]}`, "UTC", "2025-08-01 10:00:00", true},
		{"second friday is not first", `{"name":"m","cycle":"monthly","ordinal":"first","wdays":["friday"]}`, "UTC", "2025-08-08 10:00:00", false},
		{"fifth friday", `{"name":"m","cycle":"monthly","ordinal":"fifth","wdays":["friday"]}`, "UTC", "2025-08-29 10:00:00", true},
		{"every tuesday", `{"name":"m","cycle":"monthly","ordinal":"every","wdays":["tuesday"]}`, "UTC", "2025-08-19 10:00:00", true},
		{"every other month", `{"name":"m","cycle":"monthly","interval":2,"days":[10],"start_date":"2025-01-01"}`, "UTC", "2025-03-10 10:00:00", true},
		{"every other month, off month", `{"name":"m","cycle":"monthly","interval":2,"days":[10],"start_date":"2025-01-01"}`, "UTC", "2025-04-10 10:00:00", false},
		// daily and intervals
		{"daily", `{"name":"d","cycle":"daily","time_window_start":0,"time_window_stop":3600}`, "UTC", "2025-01-09 00:30:00", true},
		{"every third day", `{"name":"d","cycle":"daily","interval":3,"start_date":"2025-01-01"}`, "UTC", "2025-01-07 12:00:00", true},
		{"every third day, off day", `{"name":"d","cycle":"daily","interval":3,"start_date":"2025-01-01"}`, "UTC", "2025-01-08 12:00:00", false},
		{"every other week", `{"name":"w","cycle":"weekly","interval":2,"wdays":["monday"],"start_date":"2025-01-01"}`, "UTC", "2025-01-13 12:00:00", true},
		{"every other week, off week", `{"name":"w","cycle":"weekly","interval":2,"wdays":["monday"],"start_date":"2025-01-01"}`, "UTC", "2025-01-20 12:00:00", false},
		// dates, start and end
		{"one date", `{"name":"x","cycle":"date","start_date":"2025-03-14"}`, "UTC", "2025-03-14 15:00:00", true},
		{"the day after", `{"name":"x","cycle":"date","start_date":"2025-03-14"}`, "UTC", "2025-03-15 15:00:00", false},
		{"gregorian seconds", `{"name":"x","cycle":"date","start_date":63909129600}`, "UTC", "2025-03-14 15:00:00", true},
		{"starts in the future", `{"name":"x","cycle":"daily","start_date":"2030-01-01"}`, "UTC", "2025-03-14 15:00:00", false},
		{"ended", `{"name":"x","cycle":"daily","start_date":"2025-01-01","end_date":"2025-02-01"}`, "UTC", "2025-03-14 15:00:00", false},
		{"end_date 0 is no end", `{"name":"x","cycle":"daily","end_date":0}`, "UTC", "2025-03-14 15:00:00", true},
		// zones
		{"the block's zone", officeHours, "America/New_York", "2025-06-03 09:30:00", true},
		{"paris evening is not new york office", `{"name":"ny","cycle":"weekly","wdays":["monday"],"time_window_start":32400,"time_window_stop":61200,"timezone":"America/New_York"}`,
			"Europe/Paris", "2025-06-02 10:00:00", false},
		{"the rule's own zone wins", `{"name":"ny","cycle":"weekly","wdays":["monday"],"time_window_start":32400,"time_window_stop":61200,"timezone":"America/New_York"}`,
			"Europe/Paris", "2025-06-02 16:00:00", true},
		{"after a DST change", officeHours, "Europe/Paris", "2025-03-31 09:00:00", true},
		// across midnight (ours)
		{"night shift evening", `{"name":"n","cycle":"weekly","wdays":["friday"],"time_window_start":79200,"time_window_stop":21600}`, "UTC", "2025-06-06 23:00:00", true},
		{"night shift morning after", `{"name":"n","cycle":"weekly","wdays":["friday"],"time_window_start":79200,"time_window_stop":21600}`, "UTC", "2025-06-07 05:00:00", true},
		{"night shift, friday morning", `{"name":"n","cycle":"weekly","wdays":["friday"],"time_window_start":79200,"time_window_stop":21600}`, "UTC", "2025-06-06 05:00:00", false},
		// overrides
		{"forced on", `{"name":"x","cycle":"date","start_date":"2020-01-01","enabled":true}`, "UTC", "2025-03-14 15:00:00", true},
		{"forced off", officeHours[:len(officeHours)-1] + `,"enabled":false}`, "UTC", "2025-06-03 10:00:00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRule(t, tc.rule)
			loc, _ := time.LoadLocation(tc.zone)
			if got := r.Active(at(t, tc.zone, tc.now), loc); got != tc.want {
				t.Errorf("Active(%s %s) = %v, want %v", tc.now, tc.zone, got, tc.want)
			}
		})
	}
}

func TestParseRuleRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		path, rule string
	}{
		{"no name", `{"cycle":"daily"}`, "name", "required"},
		{"no cycle", `{"name":"x"}`, "cycle", "required"},
		{"unknown cycle", `{"name":"x","cycle":"hourly"}`, "cycle", "enum"},
		{"window past the day", `{"name":"x","cycle":"daily","time_window_start":90000}`, "time_window_start", "maximum"},
		{"negative window", `{"name":"x","cycle":"daily","time_window_stop":-1}`, "time_window_stop", "minimum"},
		{"window not a number", `{"name":"x","cycle":"daily","time_window_stop":"17:00"}`, "time_window_stop", "type"},
		{"month 13", `{"name":"x","cycle":"yearly","month":13,"days":[1]}`, "month", "maximum"},
		{"day 32", `{"name":"x","cycle":"monthly","days":[1,32]}`, "days.1", "maximum"},
		{"day 0", `{"name":"x","cycle":"monthly","days":[0]}`, "days.0", "minimum"},
		{"31 april", `{"name":"x","cycle":"yearly","month":4,"days":[31]}`, "days.0", "maximum"},
		{"30 february", `{"name":"x","cycle":"yearly","month":2,"days":[30]}`, "days.0", "maximum"},
		{"unknown weekday", `{"name":"x","cycle":"weekly","wdays":["monday","funday"]}`, "wdays.1", "enum"},
		{"unknown ordinal", `{"name":"x","cycle":"monthly","ordinal":"sixth","wdays":["monday"]}`, "ordinal", "enum"},
		{"weekly without weekdays", `{"name":"x","cycle":"weekly"}`, "wdays", "required"},
		{"monthly without days", `{"name":"x","cycle":"monthly"}`, "days", "required"},
		{"ordinal without weekday", `{"name":"x","cycle":"monthly","ordinal":"first"}`, "wdays", "required"},
		{"yearly without month", `{"name":"x","cycle":"yearly","days":[1]}`, "month", "required"},
		{"date without date", `{"name":"x","cycle":"date"}`, "start_date", "required"},
		{"bad date", `{"name":"x","cycle":"date","start_date":"14/03/2025"}`, "start_date", "format"},
		{"end before start", `{"name":"x","cycle":"daily","start_date":"2025-02-01","end_date":"2025-01-01"}`, "end_date", "minimum"},
		{"interval 0", `{"name":"x","cycle":"daily","interval":0}`, "interval", "minimum"},
		{"unknown zone", `{"name":"x","cycle":"daily","timezone":"Mars/Olympus"}`, "timezone", "enum"},
		{"enabled not a boolean", `{"name":"x","cycle":"daily","enabled":"yes"}`, "enabled", "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := temporal.ParseRule([]byte(tc.body))
			var ve schema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			for _, f := range ve {
				if f.Path == tc.path && f.Rule == tc.rule {
					return
				}
			}
			t.Errorf("no %s at %s in %v", tc.rule, tc.path, ve)
		})
	}
	if _, err := temporal.ParseRule([]byte(`[1]`)); err == nil {
		t.Error("an array was accepted")
	}
}

func TestParseRuleSet(t *testing.T) {
	s, err := temporal.ParseRuleSet([]byte(`{"name":"Holidays","temporal_rules":["a","b"]}`))
	if err != nil || s.Name != "Holidays" || len(s.Rules) != 2 {
		t.Fatalf("%+v %v", s, err)
	}
	for _, body := range []string{`{"temporal_rules":["a"]}`, `{"name":"x","temporal_rules":"a"}`, `{"name":"x","temporal_rules":[1]}`, `{"name":"x","temporal_rules":["a","a"]}`} {
		if _, err := temporal.ParseRuleSet([]byte(body)); err == nil {
			t.Errorf("%s accepted", body)
		}
	}
}

// TestKazooStartDateDefault: without start_date a rule runs from Kazoo's
// default, long ago.
func TestKazooStartDateDefault(t *testing.T) {
	r := mustRule(t, `{"name":"d","cycle":"daily"}`)
	if !r.Active(time.Date(1990, 1, 1, 12, 0, 0, 0, time.UTC), nil) {
		t.Error("inactive in 1990")
	}
	if r.Active(time.Date(1980, 1, 1, 12, 0, 0, 0, time.UTC), nil) {
		t.Error("active before Kazoo's default start date")
	}
}
