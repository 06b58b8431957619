package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/temporal"
)

// An account's Kazoo document holds more than Switchboard's own settings:
// timezone, caller_id, call_restriction, language, realm, notifications …
// A Kazoo client posts back what it read, so those keys are kept as given
// (checked with Kazoo's types where Kazoo's schema types them, bounded in
// size), shown by GET, replaced by POST, merged by PATCH. The keys that
// are not the tenant's (egress_allow, is_reseller, Kazoo's private pvt_*)
// never reach them.

// accountSchemaSource is our schema of the account document, with
// Kazoo's field names and types; served as /v2/schemas/accounts.
//
//go:embed schemas/accounts.json
var accountSchemaSource []byte

// accountSchema is accountSchemaSource compiled once.
var accountSchema = func() *schema.Schema {
	s, err := schema.Compile("switchboard:///accounts.json", accountSchemaSource)
	if err != nil {
		panic(fmt.Sprintf("api: account schema: %v", err))
	}
	return s
}()

// maxAccountSettings bounds an account's other keys, encoded: a Kazoo
// account document is a few KiB; this keeps a tenant from storing
// megabytes in it.
const maxAccountSettings = 64 << 10

// accountOwnKeys are the keys of the account document kept elsewhere than
// in its settings: the row's name, the music on hold, the operator's
// egress networks.
var accountOwnKeys = []string{"name", "music_on_hold", "egress_allow"}

// AccountSettings keeps the rest of each account's document. The server
// implements it (with AccountReplacer).
type AccountSettings interface {
	// AccountSettings is the account's settings object, nil when none;
	// store.ErrNotFound for an unknown account.
	AccountSettings(ctx context.Context, accountID string) (json.RawMessage, error)
	// PatchAccount renames the account (name "" keeps it) and replaces
	// its settings with what fn makes of the stored ones, in one write
	// (fn's error changes nothing); store.ErrNotFound for an unknown
	// account.
	PatchAccount(ctx context.Context, accountID, name string, fn func(old json.RawMessage) (json.RawMessage, error)) error
}

// accountSettingsOf takes the settings out of an account document's keys:
// every key but the account's own and the read-only ones, checked.
func accountSettingsOf(body map[string]json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	for k, raw := range body {
		if slices.Contains(accountOwnKeys, k) || slices.Contains(accountReadOnly, k) {
			continue
		}
		v, err := decodeValue(raw)
		if err != nil {
			return nil, fieldError(http.StatusBadRequest, "validation failed", schema.JoinPath("", k), "type", "not a JSON value")
		}
		out[k] = v
	}
	return out, checkAccountSettings(out)
}

// checkAccountSettings checks a whole settings object: no private key,
// Kazoo's types, a time zone Switchboard knows, the size bound.
func checkAccountSettings(s map[string]any) error {
	var bad schema.ValidationError
	for k := range s {
		if strings.HasPrefix(k, "pvt_") || strings.HasPrefix(k, "_") {
			bad = append(bad, schema.FieldError{Path: schema.JoinPath("", k), Rule: "private",
				Message: "keys beginning with pvt_ or _ are private to the system and are not set through the API"})
		}
	}
	accountSchema.Coerce(s)
	bad = append(bad, accountSchema.Validate(s, "")...)
	if tz, ok := s["timezone"].(string); ok && !bad.Failed("timezone") {
		if _, err := temporal.LoadLocation(tz); err != nil || tz == "" {
			bad = append(bad, schema.FieldError{Path: "timezone", Rule: "enum",
				Message: "Unknown time zone: use an IANA name such as Europe/Paris", Value: tz})
		}
	}
	if len(bad) > 0 {
		return bad.Sorted()
	}
	if b, err := json.Marshal(s); err != nil {
		return fmt.Errorf("encode account settings: %w", err)
	} else if len(b) > maxAccountSettings {
		return fieldError(http.StatusBadRequest, "validation failed", "data", "size",
			fmt.Sprintf("an account's settings (keys other than name, music_on_hold and egress_allow) are at most %d bytes; these are %d", maxAccountSettings, len(b)))
	}
	return nil
}

// accountChanged tells the server an account's settings changed, so
// what it keeps of them (timezone, caller ID) is read again.
func (a *API) accountChanged(r *http.Request, accountID string) {
	if a.onAccount != nil {
		a.onAccount(r.Context(), accountID)
	}
}

// decodeValue reads one JSON value, numbers kept exact.
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// settingsMap decodes stored settings (nil: none).
func settingsMap(raw json.RawMessage) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	m, err := document.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("stored account settings: %w", err)
	}
	return m, nil
}

// encodeSettings is a settings object as stored; nil when empty.
func encodeSettings(s map[string]any) (json.RawMessage, error) {
	if len(s) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode account settings: %w", err)
	}
	return b, nil
}

// withSettings is an account answer with its settings' keys added (the
// account's own keys win).
func withSettings(answer any, settings json.RawMessage) (map[string]any, error) {
	b, err := json.Marshal(answer)
	if err != nil {
		return nil, fmt.Errorf("encode account: %w", err)
	}
	out, err := document.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("encode account: %w", err)
	}
	s, err := settingsMap(settings)
	if err != nil {
		return nil, err
	}
	for k, v := range s {
		if _, own := out[k]; !own {
			out[k] = v
		}
	}
	return out, nil
}
