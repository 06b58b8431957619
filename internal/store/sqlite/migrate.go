package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// migrations are the schema, one forward-only step per file, applied in
// name order: 0001_init.sql, 0002_….sql. Never edit an applied file; add one.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies every migration of fsys's directory dir not yet
// recorded in schema_migrations, each in its own transaction together with
// its record.
func (d *DB) migrate(ctx context.Context, fsys fs.FS, dir string) error {
	if _, err := d.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name    TEXT    NOT NULL PRIMARY KEY,
		applied INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := migrationNames(fsys, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, name := range names {
		script, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		applied := false
		err = d.write(ctx, func(tx *sql.Tx) error {
			applied = false
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE name = ?`, name).Scan(&one)
			if err == nil {
				return nil // done before
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(script)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied) VALUES (?, ?)`,
				name, millis(d.now())); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if applied {
			d.log.Info("migration applied", "name", name)
		}
	}
	return nil
}

// migrationNames lists the migration files of fsys's directory dir in name
// order.
func migrationNames(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}
