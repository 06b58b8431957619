package api

import (
	"net/http"
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
// from where, until when.
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
		})
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}
