package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// callLogMigrations are the call log's schema, kept like the main
// database's (see migrations) but in a directory of their own.
//
//go:embed calllog_migrations/*.sql
var callLogMigrations embed.FS

// walCheckpointPages is the call log's WAL length, in pages, that starts a
// checkpoint: 10,000 pages of 4 KiB, 40 MiB, about 10 s of calls at 1,800
// calls/s (journal_size_limit truncates the file after a checkpoint).
const walCheckpointPages = 10000

// orphanAge is how old the exchanges of a call without a record must be
// before Prune deletes them.
const orphanAge = time.Hour

// CallLogDB is the SQLite store.CallLog: a database file of its own, apart
// from the documents, so that call volume never blocks an admin's save. It
// is built like DB: one writer connection, a pool of readers, the same
// pragmas, busy retries and embedded migrations.
type CallLogDB struct {
	db    *DB
	batch *batcher // SaveCall and AddWebhook go through it (calllog_batch.go)
	// The batched inserts, prepared once on the writer connection:
	// saveCall one call, saveCalls saveCallsRows calls, addWebhook one
	// exchange.
	saveCall, saveCalls, addWebhook *sql.Stmt
}

// saveCallsRows is how many calls one statement of a batch saves.
const saveCallsRows = 16

// saveCallSQL inserts rows calls, or replaces the in-progress row of a long
// call (markLongCalls in the server) with the ended call. The rows are
// taken in order, each as if saved alone: a later row of the same call
// updates an earlier one.
func saveCallSQL(rows int) string {
	return `INSERT INTO calls (` + callColumns + `, trace)
	VALUES ` + strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), `, rows-1) + `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	` + saveCallConflict
}

// saveCallConflict is saveCallSQL's upsert.
const saveCallConflict = `ON CONFLICT (account_id, id) DO UPDATE SET
		callflow_id = excluded.callflow_id, from_number = excluded.from_number,
		sip_call_id = excluded.sip_call_id,
		to_number = excluded.to_number, started = excluded.started, ended = excluded.ended,
		hangup_cause = excluded.hangup_cause, hangup_by = excluded.hangup_by,
		debug = excluded.debug, trace = excluded.trace`

// addWebhookSQL appends a webhook exchange.
const addWebhookSQL = `INSERT INTO webhooks (` + webhookColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

var _ store.CallLog = (*CallLogDB)(nil)

// OpenCallLog opens (creating if needed) the call log file at path and
// applies pending migrations. ctx bounds the setup only. log may be nil.
func OpenCallLog(ctx context.Context, path string, log *slog.Logger) (*CallLogDB, error) {
	d, err := open(ctx, path, log, "call log", callLogMigrations, "calllog_migrations")
	if err != nil {
		return nil, err
	}
	// The writer checkpoints the WAL every walCheckpointPages instead of
	// SQLite's 1,000: a checkpoint copies each page the WAL holds once, and
	// the call log rewrites the same index pages in every batch, so a
	// longer WAL copies fewer pages (and fsyncs less) per call. The pragma
	// is the connection's; the writer's one connection is kept open for
	// the call log's life (sqlite.go: no idle or lifetime limit).
	if _, err := d.w.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walCheckpointPages)); err != nil {
		d.Close()
		return nil, fmt.Errorf("open call log %s: %w", path, err)
	}
	c := &CallLogDB{db: d}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&c.saveCall, saveCallSQL(1)},
		{&c.saveCalls, saveCallSQL(saveCallsRows)},
		{&c.addWebhook, addWebhookSQL},
	} {
		if *p.st, err = d.w.PrepareContext(ctx, p.sql); err != nil {
			c.closeStmts()
			d.Close()
			return nil, fmt.Errorf("open call log %s: prepare: %w", path, err)
		}
	}
	c.batch = newBatcher(d, c.rows(), 0)
	return c, nil
}

// rows are the statements that save calls in a batch.
func (c *CallLogDB) rows() rowStmts {
	return rowStmts{one: c.saveCall, many: c.saveCalls, n: saveCallsRows}
}

// closeStmts closes the prepared statements.
func (c *CallLogDB) closeStmts() error {
	var errs []error
	for _, st := range []*sql.Stmt{c.saveCall, c.saveCalls, c.addWebhook} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Close commits the writes still queued and closes the statements and both
// pools.
func (c *CallLogDB) Close() error {
	c.batch.close()
	return errors.Join(c.closeStmts(), c.db.Close())
}

const callColumns = `account_id, id, callflow_id, from_number, to_number, started, ended,
	hangup_cause, hangup_by, debug, sip_call_id`

// SaveCall inserts or replaces a call record (the server saves a call once,
// when it ends). Writes from concurrent calls are committed together, every
// few tens of milliseconds; SaveCall returns once its record is stored.
func (c *CallLogDB) SaveCall(ctx context.Context, r store.CallRecord) error {
	if r.AccountID == "" || r.ID == "" {
		return fmt.Errorf("save call %q: empty account or id", r.ID)
	}
	trace := r.Trace
	if trace == nil {
		trace = []byte{}
	}
	var ended sql.NullInt64
	if !r.Ended.IsZero() {
		ended = sql.NullInt64{Int64: millis(r.Ended), Valid: true}
	}
	err := c.batch.writeRow(ctx, []any{r.AccountID, r.ID, r.CallflowID, r.From, r.To, millis(r.Started), ended,
		r.HangupCause, r.HangupBy, r.Debug, r.SIPCallID, trace})
	if err != nil {
		return fmt.Errorf("save call %s of account %s: %w", r.ID, r.AccountID, err)
	}
	return nil
}

// GetCall returns one call with its trace, by CallSid or, failing that,
// by SIP Call-ID; ErrNotFound if unknown.
func (c *CallLogDB) GetCall(ctx context.Context, accountID, callID string) (store.CallRecord, error) {
	var trace []byte
	r, err := scanCall(c.db.r.QueryRowContext(ctx, `SELECT `+callColumns+`, trace FROM calls
		WHERE account_id = ? AND id = ?`, accountID, callID), &trace)
	if errors.Is(err, sql.ErrNoRows) {
		r, err = scanCall(c.db.r.QueryRowContext(ctx, `SELECT `+callColumns+`, trace FROM calls
			WHERE account_id = ? AND sip_call_id = ? ORDER BY started DESC LIMIT 1`, accountID, callID), &trace)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.CallRecord{}, fmt.Errorf("get call %s of account %s: %w", callID, accountID, err)
	}
	if len(trace) > 0 {
		r.Trace = trace
	}
	return r, nil
}

// ListCalls returns an account's calls, newest first (by start), without
// traces: at most limit of them, 100 when limit <= 0, never more than 1000.
func (c *CallLogDB) ListCalls(ctx context.Context, accountID string, limit int) ([]store.CallRecord, error) {
	rows, err := c.db.r.QueryContext(ctx, `SELECT `+callColumns+` FROM calls
		WHERE account_id = ? ORDER BY started DESC, id DESC LIMIT ?`, accountID, store.CallLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list calls of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []store.CallRecord
	for rows.Next() {
		r, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("list calls of account %s: %w", accountID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list calls of account %s: %w", accountID, err)
	}
	return out, nil
}

const webhookColumns = `account_id, call_id, iteration, method, url, request_headers, request_body,
	status, response_headers, response_body, error, started, duration_ms`

// AddWebhook appends a webhook exchange. The call's record need not exist
// (yet).
func (c *CallLogDB) AddWebhook(ctx context.Context, w store.WebhookRecord) error {
	if w.AccountID == "" || w.CallID == "" {
		return fmt.Errorf("add webhook of call %q: empty account or call id", w.CallID)
	}
	reqHeaders, err := json.Marshal(w.RequestHeaders)
	if err != nil {
		return fmt.Errorf("add webhook of call %s: %w", w.CallID, err)
	}
	respHeaders, err := json.Marshal(w.ResponseHeaders)
	if err != nil {
		return fmt.Errorf("add webhook of call %s: %w", w.CallID, err)
	}
	err = c.batch.write(ctx, func(tx *batchTx) error {
		return tx.exec(ctx, c.addWebhook,
			w.AccountID, w.CallID, w.Iteration, w.Method, w.URL, string(reqHeaders), w.RequestBody,
			w.Status, string(respHeaders), w.ResponseBody, w.Error, millis(w.Started),
			w.Duration.Milliseconds())
	})
	if err != nil {
		return fmt.Errorf("add webhook of call %s of account %s: %w", w.CallID, w.AccountID, err)
	}
	return nil
}

// Webhooks returns a call's exchanges in iteration order, then in the order
// they were added.
func (c *CallLogDB) Webhooks(ctx context.Context, accountID, callID string) ([]store.WebhookRecord, error) {
	out, err := c.webhooks(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE account_id = ? AND call_id = ? ORDER BY iteration, seq`, accountID, callID)
	if err != nil {
		return nil, fmt.Errorf("webhooks of call %s of account %s: %w", callID, accountID, err)
	}
	return out, nil
}

// WebhookCalls returns the first exchange (lowest iteration, then first
// added) of each of an account's calls that has any, newest call first: by
// the call's start, or for a call without a record yet by the exchange's.
// limit is as for ListCalls.
func (c *CallLogDB) WebhookCalls(ctx context.Context, accountID string, limit int) ([]store.WebhookRecord, error) {
	out, err := c.webhooks(ctx, `SELECT `+prefixed("w.", webhookColumns)+` FROM webhooks w
		LEFT JOIN calls c ON c.account_id = w.account_id AND c.id = w.call_id
		WHERE w.account_id = ?1 AND w.seq = (
			SELECT f.seq FROM webhooks f WHERE f.account_id = ?1 AND f.call_id = w.call_id
			ORDER BY f.iteration, f.seq LIMIT 1)
		ORDER BY coalesce(c.started, w.started) DESC, w.call_id DESC
		LIMIT ?2`, accountID, store.CallLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("webhook calls of account %s: %w", accountID, err)
	}
	return out, nil
}

func (c *CallLogDB) webhooks(ctx context.Context, query string, args ...any) ([]store.WebhookRecord, error) {
	rows, err := c.db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.WebhookRecord
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Prune keeps, in each account, the keepLast newest calls (by start) and
// every call marked Debug, and deletes the other calls with their
// exchanges. It also deletes the exchanges of calls that have no record and
// none newer than an hour (the record never came). keepLast <= 0 keeps
// everything. Each account is pruned in a transaction of its own, so that
// saves are never held up for long.
func (c *CallLogDB) Prune(ctx context.Context, keepLast int) error {
	if keepLast <= 0 {
		return nil
	}
	accounts, err := c.overfull(ctx, keepLast)
	if err != nil {
		return fmt.Errorf("prune call log: %w", err)
	}
	for _, account := range accounts {
		err := c.db.write(ctx, func(tx *sql.Tx) error { return pruneAccount(ctx, tx, account, keepLast) })
		if err != nil {
			return fmt.Errorf("prune calls of account %s: %w", account, err)
		}
	}
	cutoff := millis(c.db.now().Add(-orphanAge))
	err = c.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM webhooks
			WHERE started < ?1
			AND NOT EXISTS (SELECT 1 FROM calls c
				WHERE c.account_id = webhooks.account_id AND c.id = webhooks.call_id)
			AND NOT EXISTS (SELECT 1 FROM webhooks n
				WHERE n.account_id = webhooks.account_id AND n.call_id = webhooks.call_id
				AND n.started >= ?1)`, cutoff)
		return err
	})
	if err != nil {
		return fmt.Errorf("prune orphan webhooks: %w", err)
	}
	return nil
}

// pruneAccount deletes the calls of account beyond its keepLast newest
// (by start, then id) that are not Debug, and their exchanges. The
// keepLast-th newest call is found once, by index (calls_started covers
// it); the calls older than it are a range of the same index. The
// exchanges are looked for only if the account has any: a call log of
// plain calls pays for the calls alone.
func pruneAccount(ctx context.Context, tx *sql.Tx, account string, keepLast int) error {
	var (
		started int64
		id      string
	)
	err := tx.QueryRowContext(ctx, `SELECT started, id FROM calls WHERE account_id = ?
		ORDER BY started DESC, id DESC LIMIT 1 OFFSET ?`, account, keepLast-1).Scan(&started, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // keepLast or fewer since overfull counted them
	}
	if err != nil {
		return err
	}
	const doomed = `SELECT id FROM calls
		WHERE account_id = ?1 AND (started, id) < (?2, ?3) AND debug = 0`
	var hooks bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE account_id = ?)`,
		account).Scan(&hooks); err != nil {
		return err
	}
	if hooks {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhooks
			WHERE account_id = ?1 AND call_id IN (`+doomed+`)`, account, started, id); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM calls
		WHERE account_id = ?1 AND (started, id) < (?2, ?3) AND debug = 0`, account, started, id)
	return err
}

// overfull lists the accounts with more than keepLast calls.
func (c *CallLogDB) overfull(ctx context.Context, keepLast int) ([]string, error) {
	rows, err := c.db.r.QueryContext(ctx, `SELECT account_id FROM calls
		GROUP BY account_id HAVING count(*) > ?`, keepLast)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// scanCall reads callColumns, then extra destinations (the trace).
func scanCall(s scanner, extra ...any) (store.CallRecord, error) {
	var (
		r       store.CallRecord
		started int64
		ended   sql.NullInt64
	)
	dest := append([]any{&r.AccountID, &r.ID, &r.CallflowID, &r.From, &r.To, &started, &ended,
		&r.HangupCause, &r.HangupBy, &r.Debug, &r.SIPCallID}, extra...)
	if err := s.Scan(dest...); err != nil {
		return store.CallRecord{}, err
	}
	r.Started = logTime(started)
	if ended.Valid {
		r.Ended = logTime(ended.Int64)
	}
	return r, nil
}

// scanWebhook reads webhookColumns.
func scanWebhook(s scanner) (store.WebhookRecord, error) {
	var (
		w                       store.WebhookRecord
		reqHeaders, respHeaders string
		started, durationMillis int64
	)
	if err := s.Scan(&w.AccountID, &w.CallID, &w.Iteration, &w.Method, &w.URL, &reqHeaders,
		&w.RequestBody, &w.Status, &respHeaders, &w.ResponseBody, &w.Error, &started,
		&durationMillis); err != nil {
		return store.WebhookRecord{}, err
	}
	if err := json.Unmarshal([]byte(reqHeaders), &w.RequestHeaders); err != nil {
		return store.WebhookRecord{}, fmt.Errorf("request headers of call %s: %w", w.CallID, err)
	}
	if err := json.Unmarshal([]byte(respHeaders), &w.ResponseHeaders); err != nil {
		return store.WebhookRecord{}, fmt.Errorf("response headers of call %s: %w", w.CallID, err)
	}
	w.Started = logTime(started)
	w.Duration = time.Duration(durationMillis) * time.Millisecond
	return w, nil
}

// zeroMillis is the zero time.Time as stored.
var zeroMillis = millis(time.Time{})

// logTime is a stored time, the zero time.Time staying zero.
func logTime(ms int64) time.Time {
	if ms == zeroMillis {
		return time.Time{}
	}
	return fromMillis(ms)
}

// prefixed qualifies each of the comma-separated columns with p.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
