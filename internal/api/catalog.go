package api

import (
	"encoding/json"
	"net/http"

	"github.com/switchboard/switchboard/internal/engine"
)

// catalogEntry is one module as the configurator's palette shows it.
type catalogEntry struct {
	Name     string          `json:"name"`
	Label    string          `json:"label"`
	Group    string          `json:"group"`
	Icon     string          `json:"icon"`
	Doc      string          `json:"description,omitempty"`
	Branches []string        `json:"branches"`
	Free     bool            `json:"free_branches"`
	Terminal bool            `json:"terminal"`
	Schema   json.RawMessage `json:"schema"`
}

// catalog lists every registered module with its schema: the UI builds its
// palette and pop-ups from it.
func (a *API) catalog(w http.ResponseWriter, r *http.Request) error {
	specs := engine.Specs()
	out := make([]catalogEntry, 0, len(specs))
	for _, s := range specs {
		branches := s.Branches
		if branches == nil {
			branches = []string{}
		}
		out = append(out, catalogEntry{
			Name: s.Name, Label: s.Label, Group: s.Group, Icon: s.Icon, Doc: s.Doc,
			Branches: branches, Free: s.Branches == nil && !s.Terminal, Terminal: s.Terminal,
			Schema: json.RawMessage(s.Schema),
		})
	}
	return a.success(w, r, http.StatusOK, out, "", nil)
}
