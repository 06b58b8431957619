package document

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/temporal"
)

// Temporal rules and rule sets: Kazoo's /temporal_rules and
// /temporal_rules_sets, the documents temporal_route reads. Package
// temporal checks them; a set's rules are references.
func init() {
	Register(Kind{
		Name: string(store.TemporalRuleKind), Label: "temporal rule", Param: "rule_id",
		Normalise: normaliseRule,
		Summary:   []string{"cycle", "enabled", "temporal_rules", "flags"},
	})
	Register(Kind{
		Name: string(store.TemporalRuleSetKind), Label: "temporal rule set", Param: "rule_set_id",
		Normalise: normaliseRuleSet,
		Index: func(_ *Context, doc map[string]any, w *store.DocWrite) error {
			for i, id := range stringList(doc["temporal_rules"]) {
				w.Refs = append(w.Refs, store.Ref{Path: "temporal_rules." + strconv.Itoa(i), Kind: string(store.TemporalRuleKind), ID: id})
			}
			return nil
		},
		Summary: []string{"cycle", "enabled", "temporal_rules", "flags"},
	})
}

func normaliseRule(_ *Context, doc map[string]any) (map[string]any, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode temporal rule: %w", err)
	}
	if _, err := temporal.ParseRule(body); err != nil {
		return nil, badDocument(err)
	}
	if _, ok := doc["interval"]; !ok {
		doc["interval"] = 1
	}
	if _, ok := doc["start_date"]; !ok && doc["cycle"] != "date" {
		doc["start_date"] = temporal.DefaultStartDate
	}
	if _, ok := doc["end_date"]; !ok {
		doc["end_date"] = 0
	}
	return doc, nil
}

func normaliseRuleSet(_ *Context, doc map[string]any) (map[string]any, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode temporal rule set: %w", err)
	}
	if _, err := temporal.ParseRuleSet(body); err != nil {
		return nil, badDocument(err)
	}
	return doc, nil
}

// badDocument answers a document that did not parse: its ValidationError
// as is, anything else as a field error on data.
func badDocument(err error) error {
	if _, ok := errors.AsType[schema.ValidationError](err); ok {
		return err
	}
	return schema.ValidationError{{Path: "data", Rule: "json", Message: err.Error()}}
}
