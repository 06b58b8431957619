package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
)

// Error is an API failure with the HTTP status and the Kazoo-shaped body it
// is answered with. Err is the internal cause: logged, never sent.
type Error struct {
	Status  int
	Message string
	Data    any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// errorf builds an Error whose data names the failing field the way
// validation errors do: {field: {rule: {message}}}.
func fieldError(status int, message, field, rule, detail string) *Error {
	return &Error{Status: status, Message: message, Data: map[string]any{
		field: map[string]any{rule: map[string]any{"message": detail}},
	}}
}

// toError maps domain errors to API errors; anything unknown is a 500 with
// an id the log repeats (never a 400: an unexpected failure is ours).
func toError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if v, ok := errors.AsType[schema.ValidationError](err); ok {
		return &Error{Status: http.StatusBadRequest, Message: "validation failed", Data: v.Data(), Err: err}
	}
	if c, ok := errors.AsType[*store.ConflictError](err); ok {
		return conflictError(c, err)
	}
	if m, ok := errors.AsType[*store.MissingRefError](err); ok {
		data := map[string]any{}
		for _, ref := range m.Refs {
			data[ref.Path] = map[string]any{"exists": map[string]any{
				"message": "No " + kindLabel(ref.Kind) + " has this id", "value": ref.ID, "target": ref.Kind,
			}}
		}
		return &Error{Status: http.StatusBadRequest, Message: "validation failed", Data: data, Err: err}
	}
	if u, ok := errors.AsType[*store.InUseError](err); ok {
		return &Error{Status: http.StatusConflict, Message: "document in use", Data: map[string]any{
			"message":   "other documents point to this one; change them first, or delete with ?force=true",
			"referrers": u.Referrers,
		}, Err: err}
	}
	if n, ok := errors.AsType[*store.NetworkError](err); ok {
		return &Error{Status: http.StatusBadRequest, Message: "validation failed", Data: map[string]any{
			fmt.Sprintf("source_cidrs.%d", n.Index): map[string]any{"unique": map[string]any{
				"message": "this network overlaps a trunk of another account; a source address must belong to one account",
				"value":   n.Network,
			}},
		}, Err: err}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Message: "bad identifier", Data: map[string]any{"cause": "not found"}, Err: err}
	case errors.Is(err, store.ErrStaleRevision):
		return &Error{Status: http.StatusConflict, Message: "conflicting documents", Data: map[string]any{
			"revision": map[string]any{"stale": map[string]any{"message": "the document was saved by someone else since you read it; reload it and apply your change again"}},
		}, Err: err}
	case errors.Is(err, store.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Message: "forbidden", Data: map[string]any{
			"message": "this account may not do that: only the operator's account, and resellers in their own sub-tree, create accounts; only the operator marks resellers"}, Err: err}
	case errors.Is(err, store.ErrExists):
		return &Error{Status: http.StatusConflict, Message: "document already exists", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Message: "internal server error", Err: err}
}

// conflictError answers a number or pattern taken by another flow as Kazoo
// does: 400 {"numbers":{"unique":{"message":"Number X exists in callflow ID NAME","cause":"X"}}}.
func conflictError(c *store.ConflictError, err error) *Error {
	if c.Kind != "number" && c.Kind != "pattern" {
		msg := fmt.Sprintf("%s %s is taken", c.Kind, c.Value)
		if c.CallflowID != "" {
			msg = fmt.Sprintf("%s %s exists in %s %s %s", c.Kind, c.Value, kindLabel(c.HolderKind), c.CallflowID, c.Name)
		}
		return &Error{Status: http.StatusBadRequest, Message: "validation failed", Data: map[string]any{
			c.Field: map[string]any{"unique": map[string]any{
				"message": msg, "cause": c.Value, "id": c.CallflowID, "name": c.Name, "kind": c.HolderKind,
			}},
		}, Err: err}
	}
	field, msg := "numbers", fmt.Sprintf("Number %s exists in callflow %s %s", c.Value, c.CallflowID, c.Name)
	if c.Kind == "pattern" {
		field, msg = "patterns", fmt.Sprintf("Pattern %s exists in callflow %s %s", c.Value, c.CallflowID, c.Name)
	}
	return &Error{Status: http.StatusBadRequest, Message: "validation failed", Data: map[string]any{
		field: map[string]any{"unique": map[string]any{
			"message": msg, "cause": c.Value, "callflow_id": c.CallflowID, "name": c.Name,
		}},
	}, Err: err}
}

// handlerFunc is how every endpoint is written: it returns an error, and
// handle renders it in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				a.writeError(w, r, &Error{Status: http.StatusInternalServerError, Message: "internal server error", Err: fmt.Errorf("panic: %v", p)})
			}
		}()
		if err := h(w, r); err != nil {
			a.writeError(w, r, toError(err))
		}
	})
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	id := requestID(r)
	switch {
	case e.Status >= 500:
		a.log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Err)
	case e.Err != nil:
		a.log.Debug("request refused", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Err)
	}
	data := e.Data
	if data == nil {
		data = map[string]any{}
	}
	writeJSON(w, e.Status, map[string]any{
		"status":     "error",
		"error":      fmt.Sprint(e.Status),
		"message":    e.Message,
		"data":       data,
		"request_id": id,
		"timestamp":  a.now().UTC().Format("2006-01-02T15:04:05Z"),
	})
}
