// Package sqlite is the embedded store.Store: one SQLite file in WAL mode,
// written through a single connection and read through a pool, with the
// schema kept by embedded, forward-only migrations.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchboard/switchboard/internal/store"
)

// DB is the SQLite store. All writes go through w (one connection, so
// writes are serialised and every check-then-write runs in one
// transaction); reads go through the pool r and never wait for a writer.
type DB struct {
	w   *sql.DB
	r   *sql.DB
	log *slog.Logger
	now func() time.Time

	// orderMu orders document writes with their watchers' calls.
	orderMu  sync.Mutex
	watchMu  sync.Mutex
	watchers []func(store.Change)
}

var _ store.Store = (*DB)(nil)

// Pragmas set on every connection (PocketBase's choice). busy_timeout comes
// first so that the others wait for a lock instead of failing.
var pragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"journal_size_limit(200000000)",
	"synchronous(NORMAL)",
	"foreign_keys(ON)",
	"temp_store(MEMORY)",
	"cache_size(-32000)",
}

// Open opens (creating if needed) the database file at path and applies
// pending migrations. ctx bounds the setup only. log may be nil.
func Open(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	return open(ctx, path, log, "sqlite", migrations, "migrations")
}

// open builds a DB on path, the one writer and the read pool, with the
// migrations of fsys's directory dir applied. what names the database in
// errors.
func open(ctx context.Context, path string, log *slog.Logger, what string, fsys fs.FS, dir string) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return nil, fmt.Errorf("open %s: empty path", what)
	}
	d := &DB{log: log, now: time.Now}
	fail := func(err error) (*DB, error) {
		d.Close()
		return nil, fmt.Errorf("open %s %s: %w", what, path, err)
	}

	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return fail(err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	d.w = w
	if err := w.PingContext(ctx); err != nil {
		return fail(err)
	}
	if err := d.migrate(ctx, fsys, dir); err != nil {
		return fail(err)
	}

	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return fail(err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d.r = r
	if err := r.PingContext(ctx); err != nil {
		return fail(err)
	}
	return d, nil
}

// Close closes both pools.
func (d *DB) Close() error {
	var errs []error
	if d.r != nil {
		errs = append(errs, d.r.Close())
	}
	if d.w != nil {
		errs = append(errs, d.w.Close())
	}
	return errors.Join(errs...)
}

// dsn builds the modernc.org/sqlite data source name: a file: URI (so any
// path character survives) with the pragmas as _pragma parameters, so that
// every connection of the pool gets them. The writer begins its
// transactions IMMEDIATE, taking the write lock up front; the readers are
// query_only.
func dsn(path string, readOnly bool) string {
	p := filepath.Clean(path)
	if !filepath.IsAbs(p) {
		p = "./" + p // never read as ":memory:" or a URI authority
	}
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	q := url.Values{}
	for _, v := range pragmas {
		q.Add("_pragma", v)
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + p + "?" + q.Encode()
}

// Retries of a write that found the database busy (another process, or a
// checkpoint), beyond what busy_timeout already waited.
const (
	busyRetries = 4
	busyBackoff = 25 * time.Millisecond
)

// write runs fn in a transaction on the writer and commits. It returns only
// after COMMIT, so the write is durable (WAL, synchronous=NORMAL: a process
// kill loses nothing committed). On SQLITE_BUSY the whole transaction is
// retried with a growing backoff; any other error from fn rolls back and is
// returned as is.
func (d *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	wait := busyBackoff
	for attempt := 0; ; attempt++ {
		err := d.writeOnce(ctx, fn)
		if err == nil || attempt == busyRetries || !isBusy(err) {
			return err
		}
		d.log.Debug("database busy, retrying", "attempt", attempt+1, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

func (d *DB) writeOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED (any extended
// code).
func isBusy(err error) bool {
	e, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// millis is t as stored: Unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis is a stored time: UTC, millisecond precision.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// stamp is now as the store records it.
func (d *DB) stamp() time.Time { return fromMillis(millis(d.now())) }
