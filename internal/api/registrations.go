package api

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// Registrations lists the live contact bindings of registered phones; the
// SIP registrar implements it (through the server).
type Registrations interface {
	// Registrations are an account's bindings, of one device when
	// deviceID is set.
	Registrations(accountID, deviceID string) []store.Registration
}

// listRegistrations answers GET …/registrations (Kazoo's path) and
// …/devices/{device_id}/registrations: where each phone is registered,
// from where, until when. Each row also carries Kazoo's names for the
// same facts (authorizing_id and authorizing_type, from_user, from_host,
// original_contact, contact_ip and contact_port, source_ip and
// source_port, event_timestamp in Gregorian seconds), which Kazoo's
// clients read to show a device as registered.
func (a *API) listRegistrations(w http.ResponseWriter, r *http.Request) error {
	if a.regs == nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "registrar unavailable"}
	}
	regs := a.regs.Registrations(accountOf(r), r.PathValue("device_id"))
	now := a.now()
	out := make([]map[string]any, 0, len(regs))
	for _, g := range regs {
		out = append(out, map[string]any{
			"account_id": g.AccountID, "device_id": g.DeviceID, "owner_id": g.OwnerID,
			"username": g.Username, "realm": g.Realm, "contact": g.Contact, "source": g.Source,
			"transport": g.Transport, "user_agent": g.UserAgent, "call_id": g.CallID,
			"expires":    int(g.Expires.Sub(now).Round(time.Second) / time.Second),
			"expires_at": g.Expires.UTC().Format(time.RFC3339), "updated": g.Updated.UTC().Format(time.RFC3339),
			"authorizing_id": g.DeviceID, "authorizing_type": "device", "from_user": g.Username, "from_host": g.Realm,
			"original_contact": g.Contact, "event_timestamp": g.Updated.Unix() + gregorianOffset,
		})
		row := out[len(out)-1]
		if ip, port, ok := hostPort(g.Source); ok {
			row["source_ip"], row["source_port"] = ip, port
		}
		if ip, port, ok := hostPort(contactHostPort(g.Contact)); ok {
			row["contact_ip"], row["contact_port"] = ip, port
		}
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}

// gregorianOffset is the seconds from year 0 to 1970, Kazoo's (Erlang's)
// timestamps' epoch.
const gregorianOffset = 62167219200

// hostPort splits "ip:port" (IPv6 in brackets) into its address and port
// as strings; false when it is not that.
func hostPort(s string) (string, string, bool) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", "", false
	}
	return ap.Addr().String(), strconv.Itoa(int(ap.Port())), true
}

// contactHostPort is the host:port of a Contact URI
// (sip:user@host:port;params), "" when it has no port.
func contactHostPort(uri string) string {
	uri = strings.Trim(uri, "<>")
	if i := strings.IndexByte(uri, '@'); i >= 0 {
		uri = uri[i+1:]
	} else if _, rest, ok := strings.Cut(uri, ":"); ok {
		uri = rest
	}
	if i := strings.IndexAny(uri, ";?>"); i >= 0 {
		uri = uri[:i]
	}
	return uri
}
