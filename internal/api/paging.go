package api

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"

	"github.com/switchboard/switchboard/internal/store"
)

const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// listOptions reads Kazoo's paging parameters: page_size (1 to 1000, 50 by
// default), start_key (a next_start_key handed out before) and
// paginate=false (everything).
func listOptions(r *http.Request) (store.ListOptions, string, error) {
	q := r.URL.Query()
	opts := store.ListOptions{Limit: defaultPageSize}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return opts, "", fieldError(http.StatusBadRequest, "validation failed", "page_size", "range",
				fmt.Sprintf("page_size must be a whole number from 1 to %d", maxPageSize))
		}
		opts.Limit = n
	}
	if q.Get("paginate") == "false" {
		opts.Limit = 0
	}
	startKey := q.Get("start_key")
	if startKey != "" {
		after, err := decodeStartKey(startKey)
		if err != nil {
			return opts, "", fieldError(http.StatusBadRequest, "validation failed", "start_key", "format", "start_key is not one this server handed out")
		}
		opts.After = after
	}
	return opts, startKey, nil
}

func encodeStartKey(afterID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + afterID))
}

func decodeStartKey(k string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return "", err
	}
	id, ok := bytes.CutPrefix(b, []byte("after:"))
	if !ok {
		return "", fmt.Errorf("bad start key")
	}
	return string(id), nil
}

func accountOf(r *http.Request) string {
	id, _ := r.Context().Value(keyAccount).(string)
	return id
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// mergePatch applies an RFC 7386 JSON merge patch.
func mergePatch(doc, patch map[string]any) map[string]any {
	if doc == nil {
		doc = map[string]any{}
	}
	for k, v := range patch {
		if v == nil {
			delete(doc, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			dm, _ := doc[k].(map[string]any)
			doc[k] = mergePatch(dm, pm)
			continue
		}
		doc[k] = v
	}
	return doc
}
