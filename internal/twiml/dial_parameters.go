package twiml

import "strings"

// parameterHeaders are a <Client>'s <Parameter> values as custom SIP
// headers for the phone's INVITE: each name with an X- prefix unless it
// has one ("FirstName" → "X-FirstName"), as Twilio hands them to SIP
// clients. nil without parameters.
func parameterHeaders(ps []Variable) map[string]string {
	if len(ps) == 0 {
		return nil
	}
	out := make(map[string]string, len(ps))
	for _, p := range ps {
		name := p.Key
		if name == "" {
			continue
		}
		if !strings.HasPrefix(strings.ToLower(name), "x-") {
			name = "X-" + name
		}
		out[name] = p.Value
	}
	return out
}
