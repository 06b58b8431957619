package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// Call-log writes are gathered by one writer goroutine and committed
// together: at a thousand calls a second, a transaction (and an fsync of
// the WAL) per call costs more than the call. A write waits for the commit
// that holds it, so SaveCall still returns only once the record is stored.
const (
	// defaultBatchWindow is how long the writer gathers writes after the
	// first one before it commits them; a caller waits at most about this
	// long more than for a write of its own, and a crash loses at most the
	// writes of this window. 50 ms: at 1,800 calls/s a batch of about 90
	// calls shares each index page it rewrites and each commit among 2.5
	// times as many calls as a 20 ms window, for about 0.04 of a 1 s
	// call's length.
	defaultBatchWindow = 50 * time.Millisecond
	// batchMax bounds one transaction.
	batchMax = 512
	// batchQueue bounds the writes waiting for the writer; beyond it a
	// write waits for room (back-pressure, not memory).
	batchQueue = 4096
)

// ErrClosed is returned by a call-log write after Close.
var ErrClosed = errors.New("call log closed")

// writeReq is one write: fn, or (fn nil) row, a row of the batcher's
// rows statement.
type writeReq struct {
	ctx  context.Context
	fn   func(tx *batchTx) error
	row  []any
	done chan error
}

// rowStmts insert rows of one table (the calls): many takes n rows at
// once, one takes a single row. A batch's rows go in statements of n rows,
// the rest one by one: a statement's binding, stepping and resetting, and
// database/sql's work around it, are then paid once for n calls.
type rowStmts struct {
	one, many *sql.Stmt
	n         int
}

// batchTx is a batch's transaction. Its statements are prepared once, on
// the writer connection, when the call log opens (compiling the insert for
// every batch cost more than running it for a few calls), and bound to
// each batch's transaction without being compiled again.
type batchTx struct {
	tx *sql.Tx
}

// exec runs st (prepared on the writer when the call log opened) in the
// transaction.
func (b *batchTx) exec(ctx context.Context, st *sql.Stmt, args ...any) error {
	ts := b.tx.StmtContext(ctx, st)
	_, err := ts.ExecContext(ctx, args...)
	if cerr := ts.Close(); err == nil {
		err = cerr
	}
	return err
}

// runBatch runs reqs in tx: each fn in order, and the rows, in their
// order, rs.n at a time through rs.many and the rest through rs.one.
func runBatch(ctx context.Context, tx *sql.Tx, rs rowStmts, reqs []writeReq) error {
	bt := &batchTx{tx: tx}
	var (
		rows  []any // the pending rows' values, fewer than rs.n rows
		width int   // values in a row
		many  *sql.Stmt
	)
	for _, r := range reqs {
		if r.fn != nil {
			if err := r.fn(bt); err != nil {
				return err
			}
			continue
		}
		width = len(r.row)
		rows = append(rows, r.row...)
		if len(rows) < rs.n*width {
			continue
		}
		if many == nil {
			many = tx.StmtContext(ctx, rs.many)
			defer many.Close()
		}
		if _, err := many.ExecContext(ctx, rows...); err != nil {
			return err
		}
		rows = rows[:0]
	}
	if len(rows) == 0 {
		return nil
	}
	one := tx.StmtContext(ctx, rs.one)
	defer one.Close()
	for ; len(rows) > 0; rows = rows[width:] {
		if _, err := one.ExecContext(ctx, rows[:width]...); err != nil {
			return err
		}
	}
	return nil
}

// batcher is the call log's one writer.
type batcher struct {
	db     *DB
	rows   rowStmts
	window time.Duration
	reqs   chan writeReq
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once

	mu     sync.RWMutex // held for reading while a write is queued, for writing by close
	closed bool
}

func newBatcher(db *DB, rows rowStmts, window time.Duration) *batcher {
	if window <= 0 {
		window = defaultBatchWindow
	}
	b := &batcher{db: db, rows: rows, window: window, reqs: make(chan writeReq, batchQueue), stop: make(chan struct{})}
	b.wg.Go(b.run)
	return b
}

// write runs fn in the next batch's transaction and returns once that
// transaction committed (or fn's own error). ctx bounds the wait.
func (b *batcher) write(ctx context.Context, fn func(tx *batchTx) error) error {
	return b.send(ctx, writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// writeRow inserts row with the rows statements in the next batch's
// transaction, and returns as write does.
func (b *batcher) writeRow(ctx context.Context, row []any) error {
	return b.send(ctx, writeReq{ctx: ctx, row: row, done: make(chan error, 1)})
}

func (b *batcher) send(ctx context.Context, r writeReq) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		b.mu.RUnlock()
		return context.Cause(ctx)
	}
	b.mu.RUnlock()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// close commits what is queued and stops the writer.
func (b *batcher) close() {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.stop)
		b.wg.Wait()
	})
}

func (b *batcher) run() {
	batch := make([]writeReq, 0, batchMax)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		case <-b.stop:
			b.drain(batch)
			return
		}
		timer.Reset(b.window)
	gather:
		for len(batch) < batchMax {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			case <-timer.C:
				break gather
			case <-b.stop:
				break gather
			}
		}
		timer.Stop()
		b.commit(batch)
		clear(batch)
		batch = batch[:0]
	}
}

// drain commits the batch and whatever is still queued (close).
func (b *batcher) drain(batch []writeReq) {
	for {
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
			if len(batch) < batchMax {
				continue
			}
		default:
		}
		if len(batch) == 0 {
			return
		}
		b.commit(batch)
		batch = batch[:0]
	}
}

// commit runs the batch in one transaction. If it fails, each write is
// retried on its own, so that one bad record fails only its own caller.
func (b *batcher) commit(batch []writeReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- context.Cause(r.ctx)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.Background()
	err := b.db.write(ctx, func(tx *sql.Tx) error { return runBatch(ctx, tx, b.rows, live) })
	if err == nil || len(live) == 1 {
		for _, r := range live {
			r.done <- err
		}
		return
	}
	for _, r := range live {
		r.done <- b.db.write(r.ctx, func(tx *sql.Tx) error { return runBatch(r.ctx, tx, b.rows, []writeReq{r}) })
	}
}
