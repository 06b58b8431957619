package document

import (
	"github.com/switchboard/switchboard/internal/schema"
)

// Credentials: a device's SIP password becomes its digest HA1 (MD5 and
// SHA-256), a voicemail PIN and a user's password become PBKDF2 hashes.
// A write that does not give the secret again keeps the stored hash, so a
// client can GET a document (which never shows secrets), edit it and POST
// it back.

// deviceRealm is the realm of a device's credentials: its sip.realm, or
// the account id.
func deviceRealm(c *Context, doc map[string]any) string {
	if r := str(doc, "sip.realm"); r != "" {
		return r
	}
	return c.AccountID
}

func normaliseDevice(c *Context, doc map[string]any) (map[string]any, error) {
	user, realm := str(doc, "sip.username"), deviceRealm(c, doc)
	pass := str(doc, "sip.password")
	removePath(doc, "sip.password")
	switch {
	case pass != "":
		if user == "" {
			return nil, schema.ValidationError{{Path: "sip.username", Rule: "required", Message: "a SIP password needs a SIP username"}}
		}
		setPath(doc, "sip.ha1", map[string]any{
			"md5":     DigestHA1("MD5", user, realm, pass),
			"sha-256": DigestHA1("SHA-256", user, realm, pass),
		})
	case c.Previous != nil && str(c.Previous, "sip.ha1.md5") != "":
		prevUser := str(c.Previous, "sip.username")
		prevRealm := deviceRealm(c, c.Previous)
		if user != prevUser || realm != prevRealm {
			if user != "" {
				return nil, schema.ValidationError{{Path: "sip.password", Rule: "required",
					Message: "a new SIP username or realm needs the SIP password again"}}
			}
			removePath(doc, "sip.ha1")
			break
		}
		prev, _ := lookup(c.Previous, "sip.ha1")
		setPath(doc, "sip.ha1", prev)
	}
	return doc, nil
}

func normaliseVMBox(c *Context, doc map[string]any) (map[string]any, error) {
	return doc, keepHashed(c, doc, "pin", "pin_hash")
}

func normaliseUser(c *Context, doc map[string]any) (map[string]any, error) {
	return doc, keepHashed(c, doc, "password", "password_hash")
}

// keepHashed replaces doc[field] by its hash in doc[hashField], or keeps
// the previous hash when the field is not given.
func keepHashed(c *Context, doc map[string]any, field, hashField string) error {
	secret, _ := doc[field].(string)
	delete(doc, field)
	if secret != "" {
		h, err := HashSecret(secret)
		if err != nil {
			return err
		}
		doc[hashField] = h
		return nil
	}
	if _, given := doc[hashField]; given {
		return nil // an import restores a hash
	}
	if c.Previous != nil {
		if h, ok := c.Previous[hashField].(string); ok {
			doc[hashField] = h
		}
	}
	return nil
}
