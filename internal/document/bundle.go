package document

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/switchboard/switchboard/internal/store"
)

// Bundle is an account's documents as exported: no revisions, no
// timestamps, ids kept, so that it can be kept under version control and
// applied to another account or server (Export, Import).
type Bundle struct {
	Documents []Entry `json:"documents"`
}

// Entry is one document of a bundle.
type Entry struct {
	Kind     string          `json:"kind"`
	ID       string          `json:"id"`
	Document json.RawMessage `json:"document"`
	// Audio is a media document's stored audio (WAV, base64 in JSON), so
	// an export carries what a flow plays; a file beside the document's in
	// a tree (Files).
	Audio []byte `json:"audio,omitempty"`
}

// NewBundle builds a bundle from stored documents, sorted by kind then id.
func NewBundle(docs []store.Doc) Bundle {
	b := Bundle{Documents: make([]Entry, 0, len(docs))}
	for _, d := range docs {
		b.Documents = append(b.Documents, Entry{Kind: d.Kind, ID: d.ID, Document: d.Body})
	}
	b.Sort()
	return b
}

// Sort orders the entries by kind then id, the one order of a bundle.
func (b *Bundle) Sort() {
	slices.SortFunc(b.Documents, func(x, y Entry) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.ID, y.ID))
	})
}

// Pretty is a document as an exported file: indented by two spaces, keys
// sorted, numbers as written, a final newline.
func Pretty(body []byte) ([]byte, error) {
	doc, err := Decode(body)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Files lays the bundle out as a tree: <kind>/<name>.json, one pretty file
// per document, and a media's audio beside it as <name>.wav; a name that
// is empty or shared with another document of the kind gets the id added
// ("<name>-<id>.json").
func (b Bundle) Files() (map[string][]byte, error) {
	seen := map[string]int{}
	slugs := make([]string, len(b.Documents))
	for i, e := range b.Documents {
		doc, err := Decode(e.Document)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", e.Kind, e.ID, err)
		}
		name, _ := doc["name"].(string)
		if name == "" {
			name = strings.TrimSpace(str(doc, "first_name") + " " + str(doc, "last_name"))
		}
		slugs[i] = slug(name)
		seen[e.Kind+"/"+slugs[i]]++
	}
	out := make(map[string][]byte, len(b.Documents))
	for i, e := range b.Documents {
		file := slugs[i]
		if file == "" || seen[e.Kind+"/"+file] > 1 {
			file = strings.TrimPrefix(file+"-"+slug(e.ID), "-")
		}
		body, err := Pretty(e.Document)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", e.Kind, e.ID, err)
		}
		out[path.Join(slug(e.Kind), file+".json")] = body
		if len(e.Audio) > 0 {
			out[path.Join(slug(e.Kind), file+".wav")] = e.Audio
		}
	}
	return out, nil
}

// slug keeps letters, digits, '-', '_' and '.', lower-cased; anything
// else becomes '-'. Never a path separator, never "..".
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), "-.")
}

// ReadFiles reads a tree Files wrote (or an edited one): every
// <kind>/*.json of a registered kind, with the <name>.wav beside it if
// any; the id is the document's "id".
func ReadFiles(fsys fs.FS) (Bundle, error) {
	var b Bundle
	for _, k := range Kinds() {
		names, err := fs.Glob(fsys, slug(k.Name)+"/*.json")
		if err != nil {
			return Bundle{}, err
		}
		for _, name := range names {
			body, err := fs.ReadFile(fsys, name)
			if err != nil {
				return Bundle{}, err
			}
			doc, err := Decode(body)
			if err != nil {
				return Bundle{}, fmt.Errorf("%s: %w", name, err)
			}
			id, _ := doc["id"].(string)
			if id == "" {
				return Bundle{}, fmt.Errorf("%s: the document has no \"id\"", name)
			}
			audio, err := fs.ReadFile(fsys, strings.TrimSuffix(name, ".json")+".wav")
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return Bundle{}, err
			}
			b.Documents = append(b.Documents, Entry{Kind: k.Name, ID: id, Document: body, Audio: audio})
		}
	}
	b.Sort()
	return b, nil
}
