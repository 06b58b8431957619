package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// request is Kazoo's request envelope: {"data": {...}, "auth_token"?,
// "verb"?}. Revision is ours: the revision an update was based on (the
// If-Match header says the same).
type request struct {
	Data     json.RawMessage
	Revision string
}

// readRequest reads and decodes a request envelope whose "data" must be a
// JSON object. Every failure is a 400 that names the field.
func (a *API) readRequest(w http.ResponseWriter, r *http.Request) (request, error) {
	return a.readRequestUpTo(w, r, a.cfg.MaxBodyBytes)
}

// readRequestUpTo is readRequest with its own bound on the body.
func (a *API) readRequestUpTo(w http.ResponseWriter, r *http.Request, limit int64) (request, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return request{}, fieldError(http.StatusBadRequest, "request body too large", "data", "size",
				fmt.Sprintf("the request body exceeds %d bytes", limit))
		}
		return request{}, fieldError(http.StatusBadRequest, "invalid request body", "data", "read", err.Error())
	}
	req, err := decodeRequest(body)
	if err != nil {
		return request{}, err
	}
	if m := strings.Trim(r.Header.Get("If-Match"), `"`); m != "" && m != "*" {
		req.Revision = m
	}
	return req, nil
}

// decodeRequest is the pure part of readRequest, fuzzed on its own.
func decodeRequest(body []byte) (request, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return request{}, fieldError(http.StatusBadRequest, "invalid request body", "data", "required", "the request needs a body: {\"data\": {…}}")
	}
	if path, bad := invalidUTF8Path(body); bad {
		if p, ok := strings.CutPrefix(path, "data."); ok {
			path = p // field paths are relative to data, as in every other error
		}
		return request{}, fieldError(http.StatusBadRequest, "invalid JSON", path, "encoding", "the value is not valid UTF-8")
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		msg := "the body is not valid JSON: " + err.Error()
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			msg = "the body must be a JSON object: {\"data\": {…}}"
		}
		return request{}, fieldError(http.StatusBadRequest, "invalid JSON", "data", "json", msg)
	}
	data, ok := env["data"]
	if !ok {
		return request{}, fieldError(http.StatusBadRequest, "validation failed", "data", "required", "Field is required but missing")
	}
	if t := jsonKind(data); t != "object" {
		return request{}, &Error{Status: http.StatusBadRequest, Message: "validation failed", Data: map[string]any{
			"data": map[string]any{"type": map[string]any{"message": "Value did not match type: object", "target": "object", "value": t}},
		}}
	}
	req := request{Data: data}
	if rev, ok := env["revision"]; ok && jsonKind(rev) == "string" {
		_ = json.Unmarshal(rev, &req.Revision)
	}
	return req, nil
}

// jsonKind names the JSON type of a raw value.
func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "empty"
	}
	switch t[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// dataString reads a string field of a request's data object.
func dataString(data json.RawMessage, key string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return "", false
	}
	var s string
	if v, ok := m[key]; ok && json.Unmarshal(v, &s) == nil {
		return s, true
	}
	return "", false
}

// mergeDocument is PATCH for every stored document: the request's data
// merged into the stored body as an RFC 7386 merge patch (a null removes a
// key). what and id name the document in errors.
func mergeDocument(stored []byte, data json.RawMessage, what, id string) ([]byte, error) {
	var doc, patch map[string]any
	if err := json.Unmarshal(stored, &doc); err != nil {
		return nil, fmt.Errorf("decode stored %s %s: %w", what, id, err)
	}
	if err := json.Unmarshal(data, &patch); err != nil {
		return nil, fieldError(http.StatusBadRequest, "invalid JSON", "data", "json", err.Error())
	}
	merged, err := json.Marshal(mergePatch(doc, patch))
	if err != nil {
		return nil, fmt.Errorf("encode patched %s %s: %w", what, id, err)
	}
	return merged, nil
}

// deleteRevision is the revision a DELETE is based on: the If-Match header,
// else ?revision=; "" deletes whatever is stored.
func deleteRevision(r *http.Request) string {
	if m := r.Header.Get("If-Match"); m != "" && m != "*" {
		return trimQuotes(m)
	}
	return r.URL.Query().Get("revision")
}
