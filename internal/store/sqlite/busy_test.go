package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// TestIsBusy checks that a real lock clash is recognised, so that write
// retries it, and that other errors are not.
func TestIsBusy(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "busy.db")
	d, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	// d's writer holds the write lock while other tries to take it.
	tx, err := d.w.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.BeginTx(t.Context(), nil)
	tx.Rollback()
	if !isBusy(err) {
		t.Fatalf("isBusy(%v) = false, want true", err)
	}
	if isBusy(errors.New("SQLITE_BUSY")) || isBusy(nil) {
		t.Fatal("isBusy true for a non-sqlite error")
	}

	// A transaction that meets SQLITE_BUSY is rolled back and run again.
	calls := 0
	err = d.write(t.Context(), func(tx *sql.Tx) error {
		calls++
		if calls < 3 {
			_, err := other.BeginTx(t.Context(), nil) // busy: tx holds the lock
			return err
		}
		_, err := tx.ExecContext(t.Context(), `INSERT INTO accounts (id, created) VALUES ('y', 0)`)
		return err
	})
	if err != nil || calls != 3 {
		t.Fatalf("write = %v after %d calls, want success on the 3rd", err, calls)
	}

	// Other errors are not retried.
	calls = 0
	boom := errors.New("boom")
	err = d.write(t.Context(), func(*sql.Tx) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("write = %v after %d calls, want boom after 1", err, calls)
	}
}
