package document

import (
	"embed"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
)

// The directory a phone system needs, under Kazoo's paths and field
// names: users, devices, groups, menus, media, voicemail boxes,
// conferences and outbound resources. Each schema is in schemas/.

//go:embed schemas/*.json
var schemas embed.FS

func mustSchema(name string) []byte {
	b, err := schemas.ReadFile("schemas/" + name + ".json")
	if err != nil {
		panic("document: " + err.Error())
	}
	return b
}

func init() {
	Register(Kind{
		Name: "users", Label: "user", Param: "user_id", Schema: mustSchema("users"),
		Normalise: normaliseUser,
		Index: func(c *Context, doc map[string]any, w *store.DocWrite) error {
			w.Name = strings.TrimSpace(str(doc, "first_name") + " " + str(doc, "last_name"))
			if u := str(doc, "username"); u != "" {
				w.Keys = append(w.Keys, store.Key{Name: "username", Value: strings.ToLower(u), Field: "username"})
			}
			w.Refs = appendMusicRef(w.Refs, doc)
			return nil
		},
		Summary: []string{"first_name", "last_name", "username", "email", "presence_id", "enabled", "priv_level"},
		Secrets: []string{"password", "password_hash"},
	})
	Register(Kind{
		Name: "devices", Label: "device", Param: "device_id", Schema: mustSchema("devices"),
		Normalise: normaliseDevice,
		Index: func(c *Context, doc map[string]any, w *store.DocWrite) error {
			if u := str(doc, "sip.username"); u != "" {
				w.Keys = append(w.Keys, store.Key{Name: "sip_username", Value: u + "@" + deviceRealm(c, doc), Field: "sip.username", Global: true})
			}
			w.Refs = appendRef(w.Refs, "owner_id", "users", str(doc, "owner_id"))
			w.Refs = appendMusicRef(w.Refs, doc)
			return nil
		},
		Summary: []string{"owner_id", "device_type", "enabled", "mac_address"},
		Secrets: []string{"sip.password", "sip.ha1"},
	})
	Register(Kind{
		Name: "groups", Label: "group", Param: "group_id", Schema: mustSchema("groups"),
		Index: func(c *Context, doc map[string]any, w *store.DocWrite) error {
			eps, _ := doc["endpoints"].(map[string]any)
			ids := make([]string, 0, len(eps))
			for id := range eps {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				m, _ := eps[id].(map[string]any)
				t := str(m, "type")
				w.Refs = appendRef(w.Refs, schema.JoinPath("endpoints", id), t+"s", id)
			}
			w.Refs = appendMusicRef(w.Refs, doc)
			return nil
		},
		Summary: []string{"endpoints"},
	})
	Register(Kind{
		Name: "menus", Label: "menu", Param: "menu_id", Schema: mustSchema("menus"),
		Normalise: func(c *Context, doc map[string]any) (map[string]any, error) {
			return doc, checkRegexps(doc, "hunt_allow", "hunt_deny")
		},
		Index: func(c *Context, doc map[string]any, w *store.DocWrite) error {
			if g := str(doc, "media.greeting"); isDocID(g) {
				w.Refs = appendRef(w.Refs, "media.greeting", "media", g)
			}
			return nil
		},
		Summary: []string{"retries", "timeout", "hunt"},
	})
	Register(Kind{
		Name: "media", Label: "media", Param: "media_id", Schema: mustSchema("media"),
		Summary: []string{"media_source", "language", "content_type"},
	})
	Register(Kind{
		Name: "vmboxes", Label: "voicemail box", Param: "vmbox_id", Schema: mustSchema("vmboxes"),
		Normalise: normaliseVMBox,
		Index: func(c *Context, doc map[string]any, w *store.DocWrite) error {
			w.Keys = append(w.Keys, store.Key{Name: "mailbox", Value: str(doc, "mailbox"), Field: "mailbox"})
			w.Refs = appendRef(w.Refs, "owner_id", "users", str(doc, "owner_id"))
			w.Refs = appendRef(w.Refs, "media.unavailable", "media", str(doc, "media.unavailable"))
			return nil
		},
		Summary: []string{"mailbox", "owner_id"},
		Secrets: []string{"pin", "pin_hash"},
	})
	Register(Kind{
		Name: "conferences", Label: "conference", Param: "conference_id", Schema: mustSchema("conferences"),
		Index: func(c *Context, doc map[string]any, w *store.DocWrite) error {
			w.Refs = appendRef(w.Refs, "owner_id", "users", str(doc, "owner_id"))
			return nil
		},
		Summary: []string{"conference_numbers", "owner_id"},
	})
	Register(Kind{
		Name: "resources", Label: "resource", Param: "resource_id", Schema: mustSchema("resources"),
		Normalise: func(c *Context, doc map[string]any) (map[string]any, error) {
			return doc, checkRegexps(doc, "rules.*", "cid_rules.*")
		},
		Summary: []string{"enabled", "weight_cost", "rules", "emergency"},
	})
}

// appendRef adds a reference when id is set.
func appendRef(refs []store.Ref, path, kind, id string) []store.Ref {
	if id == "" {
		return refs
	}
	return append(refs, store.Ref{Path: path, Kind: kind, ID: id})
}

// appendMusicRef adds the media a user's, device's or group's music on
// hold names (Kazoo's music_on_hold.media_id), so that it must exist when
// saved and is not deleted while named (a held party would hear the
// built-in music instead).
func appendMusicRef(refs []store.Ref, doc map[string]any) []store.Ref {
	if m := str(doc, "music_on_hold.media_id"); isDocID(m) {
		refs = appendRef(refs, "music_on_hold.media_id", "media", m)
	}
	return refs
}

// isDocID tells a document id from a URL or a media path.
func isDocID(s string) bool { return s != "" && !strings.ContainsAny(s, "/:") }

// checkRegexps compiles the regular expressions at the given fields
// ("rules.*": every element of rules).
func checkRegexps(doc map[string]any, fields ...string) error {
	var errs schema.ValidationError
	check := func(at string, v any) {
		s, ok := v.(string)
		if !ok || s == "" {
			return
		}
		if _, err := regexp.Compile(s); err != nil {
			errs = append(errs, schema.FieldError{Path: at, Rule: "pattern", Message: "Invalid regular expression: " + err.Error(), Value: s})
		}
	}
	for _, f := range fields {
		if list, ok := strings.CutSuffix(f, ".*"); ok {
			arr, _ := doc[list].([]any)
			for i, e := range arr {
				check(list+"."+strconv.Itoa(i), e)
			}
			continue
		}
		check(f, doc[f])
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
