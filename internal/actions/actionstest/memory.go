package actionstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/store"
)

// Rules are actions.TemporalRules over documents of Account in memory.
type Rules struct {
	mu   sync.Mutex
	docs map[string]store.TemporalDoc
}

var _ actions.TemporalRules = (*Rules)(nil)

// NewRules makes an empty set.
func NewRules() *Rules { return &Rules{docs: map[string]store.TemporalDoc{}} }

// Rule adds a rule document (JSON) under id.
func (m *Rules) Rule(id, body string) *Rules {
	return m.put(store.TemporalRuleKind, id, body)
}

// Set adds a rule set of rules under id.
func (m *Rules) Set(id string, rules ...string) *Rules {
	b, _ := json.Marshal(map[string]any{"name": "set " + id, "temporal_rules": rules})
	return m.put(store.TemporalRuleSetKind, id, string(b))
}

func (m *Rules) put(kind store.TemporalKind, id, body string) *Rules {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[id] = store.TemporalDoc{Kind: kind, ID: id, AccountID: Account, Body: json.RawMessage(body)}
	return m
}

// GetTemporal is actions.TemporalRules.
func (m *Rules) GetTemporal(_ context.Context, kind store.TemporalKind, accountID, id string) (store.TemporalDoc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	if !ok || accountID != d.AccountID || (kind != "" && kind != d.Kind) {
		return store.TemporalDoc{}, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	return d, nil
}

// SetTemporalRuleEnabled is actions.TemporalRules.
func (m *Rules) SetTemporalRuleEnabled(_ context.Context, accountID, id string, enabled *bool) (store.TemporalDoc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	if !ok || d.Kind != store.TemporalRuleKind {
		return store.TemporalDoc{}, fmt.Errorf("set %s: %w", id, store.ErrNotFound)
	}
	var doc map[string]any
	_ = json.Unmarshal(d.Body, &doc)
	if enabled == nil {
		delete(doc, "enabled")
	} else {
		doc["enabled"] = *enabled
	}
	d.Body, _ = json.Marshal(doc)
	m.docs[id] = d
	return d, nil
}

// Enabled is a rule's "enabled" key: true, false, or nil when absent.
func (m *Rules) Enabled(tb testing.TB, id string) any {
	tb.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var doc map[string]any
	if err := json.Unmarshal(m.docs[id].Body, &doc); err != nil {
		tb.Fatal(err)
	}
	return doc["enabled"]
}

// Numbers is engine.NumberRouter over flows in memory: number → flow node
// JSON. The flow "error" makes the lookup fail.
type Numbers map[string]string

var _ engine.NumberRouter = Numbers{}

// RouteNumber is engine.NumberRouter.
func (m Numbers) RouteNumber(_ context.Context, _, number string) (string, *engine.Node, error) {
	flow, ok := m[number]
	if !ok {
		return "", nil, nil
	}
	if flow == "error" {
		return "", nil, errors.New("store down")
	}
	f, err := callflow.Prepare([]byte(`{"numbers":["` + number + `"],"flow":` + flow + `}`))
	if err != nil {
		return "", nil, fmt.Errorf("route %s: %w", number, err)
	}
	return "flow-" + number, f.Root, nil
}

// Flows is engine.FlowSource over call-flow documents in memory: id →
// document JSON.
type Flows map[string]string

var _ engine.FlowSource = Flows{}

// LoadFlow is engine.FlowSource.
func (f Flows) LoadFlow(_ context.Context, _, id string) (*engine.Node, error) {
	doc, ok := f[id]
	if !ok {
		return nil, errors.New("no such flow")
	}
	fl, err := callflow.Prepare([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", id, err)
	}
	return fl.Root, nil
}

// CallLog is actions.WebhookLog in memory.
type CallLog struct {
	mu    sync.Mutex
	hooks []store.WebhookRecord
}

var _ actions.WebhookLog = (*CallLog)(nil)

// AddWebhook is actions.WebhookLog.
func (m *CallLog) AddWebhook(_ context.Context, w store.WebhookRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hooks = append(m.hooks, w)
	return nil
}

// Webhooks are the records kept, in order.
func (m *CallLog) Webhooks() []store.WebhookRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.hooks)
}

// Docs are stored documents of Account by id ("kind/id" → JSON body):
// the menu module's menu documents, the users and devices the feature codes
// change. Kind "" finds a document of any kind, as the store does.
type Docs map[string]string

// GetDoc answers a document of Account.
func (d Docs) GetDoc(_ context.Context, kind, accountID, id string) (store.Doc, error) {
	if kind == "" {
		for _, k := range slices.Sorted(maps.Keys(d)) {
			if strings.HasSuffix(k, "/"+id) {
				kind = strings.TrimSuffix(k, "/"+id)
				break
			}
		}
	}
	body, ok := d[kind+"/"+id]
	if !ok || accountID != Account {
		return store.Doc{}, fmt.Errorf("%s %s: %w", kind, id, store.ErrNotFound)
	}
	return store.Doc{Kind: kind, ID: id, AccountID: accountID, Body: []byte(body)}, nil
}

// ChangeDoc is actions.DocumentWriter on the map: change edits the decoded
// document, which is stored back (not safe for concurrent calls).
func (d Docs) ChangeDoc(ctx context.Context, kind, accountID, id string, change func(doc map[string]any) error) (store.Doc, error) {
	cur, err := d.GetDoc(ctx, kind, accountID, id)
	if err != nil {
		return store.Doc{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(cur.Body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return store.Doc{}, fmt.Errorf("decode %s %s: %w", kind, id, err)
	}
	if err := change(doc); err != nil {
		return store.Doc{}, err
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return store.Doc{}, err
	}
	d[cur.Kind+"/"+id] = string(body)
	cur.Body = body
	return cur, nil
}
