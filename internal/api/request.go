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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return request{}, fieldError(http.StatusBadRequest, "request body too large", "data", "size",
				fmt.Sprintf("the request body exceeds %d bytes", a.cfg.MaxBodyBytes))
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
