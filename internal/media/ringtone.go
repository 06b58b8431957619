package media

import (
	"math"
	"strings"

	"github.com/switchboard/switchboard/internal/media/codec"
)

// Ringback tones, so a caller waiting for a <Dial> on an answered call
// hears the ringing of their own country instead of silence (TwiML's
// ringTone attribute). Frequencies and cadences are the national tone
// plans as the ITU lists them (ITU-T E.180 supplement); each sound is one
// cadence cycle, looped by Play.

// ringPlan is one country's ringback: the summed frequencies and the
// on/off cadence in milliseconds (on, off, on, off …).
type ringPlan struct {
	freqs   []float64
	cadence []int
}

var (
	planNorthAmerica = ringPlan{[]float64{440, 480}, []int{2000, 4000}}
	planUK           = ringPlan{[]float64{400, 450}, []int{400, 200, 400, 2000}}
	planEurope       = ringPlan{[]float64{425}, []int{1000, 4000}}
)

// ringPlans maps TwiML ringTone values (ISO country codes, and us-old) to
// tone plans; a code not listed rings as the United States.
var ringPlans = map[string]ringPlan{
	"us": planNorthAmerica, "ca": planNorthAmerica, "us-old": planNorthAmerica, "mx": planNorthAmerica,
	"uk": planUK, "gb": planUK, "ie": planUK, "nz": planUK, "au": {[]float64{400, 425, 450}, []int{400, 200, 400, 2000}},
	"in": {[]float64{375, 425}, []int{400, 200, 400, 2000}},
	"de": planEurope, "at": planEurope, "ch": planEurope, "nl": planEurope, "be": planEurope, "dk": planEurope,
	"se": planEurope, "no": planEurope, "fi": planEurope, "pl": planEurope, "cz": planEurope, "it": planEurope,
	"pt": planEurope, "gr": planEurope, "hu": planEurope, "br": planEurope, "za": {[]float64{400, 433}, []int{400, 200, 400, 2000}},
	"fr": {[]float64{440}, []int{1500, 3500}},
	"es": {[]float64{425}, []int{1500, 3000}},
	"ru": {[]float64{425}, []int{800, 3200}},
	"cn": {[]float64{450}, []int{1000, 4000}},
	"jp": {[]float64{384, 416}, []int{1000, 2000}},
	"il": {[]float64{400}, []int{1000, 3000}},
}

// RingbackName is the built-in sound ("builtin:<name>") of a ringTone
// value; the United States' ringing for an empty or unknown one.
func RingbackName(ringTone string) string {
	cc := strings.ToLower(strings.TrimSpace(ringTone))
	if _, ok := ringPlans[cc]; !ok {
		cc = "us"
	}
	return "ringback-" + cc
}

// Ringback synthesizes one cadence cycle of a country's ringback at 8 kHz,
// about -16 dBFS a component, with 5 ms ramps so the cadence never clicks.
func Ringback(ringTone string) []int16 {
	plan, ok := ringPlans[strings.ToLower(strings.TrimSpace(ringTone))]
	if !ok {
		plan = planNorthAmerica
	}
	total := 0
	for _, ms := range plan.cadence {
		total += ms * codec.Rate / 1000
	}
	out := make([]int16, total)
	amp := 0.16
	ramp := codec.Rate / 200
	pos := 0
	for i, ms := range plan.cadence {
		n := ms * codec.Rate / 1000
		if i%2 == 0 { // a tone segment
			for j := range n {
				v := 0.0
				for _, f := range plan.freqs {
					v += amp * math.Sin(2*math.Pi*f*float64(pos+j)/codec.Rate)
				}
				switch {
				case j < ramp:
					v *= float64(j) / float64(ramp)
				case n-j < ramp:
					v *= float64(n-j) / float64(ramp)
				}
				out[pos+j] = int16(v * 32767)
			}
		}
		pos += n
	}
	return out
}

// withRingbacks adds "ringback-<code>" for every country of ringPlans.
func withRingbacks(m map[string]func() []int16) map[string]func() []int16 {
	for cc := range ringPlans {
		m["ringback-"+cc] = func() []int16 { return Ringback(cc) }
	}
	return m
}
