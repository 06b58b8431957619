package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

const registrationColumns = `account_id, device_id, contact, owner_id, username, realm, source,
	transport, call_id, cseq, user_agent, expires, updated`

// SaveRegistration inserts or refreshes one contact binding, so that the
// registrar finds it again after a restart.
func (c *CallLogDB) SaveRegistration(ctx context.Context, r store.Registration) error {
	err := c.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO registrations (`+registrationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, device_id, contact) DO UPDATE SET
				owner_id = excluded.owner_id, username = excluded.username, realm = excluded.realm,
				source = excluded.source, transport = excluded.transport, call_id = excluded.call_id,
				cseq = excluded.cseq, user_agent = excluded.user_agent, expires = excluded.expires,
				updated = excluded.updated`,
			r.AccountID, r.DeviceID, r.Contact, r.OwnerID, r.Username, r.Realm, r.Source,
			r.Transport, r.CallID, r.CSeq, r.UserAgent, millis(r.Expires), millis(r.Updated))
		return err
	})
	if err != nil {
		return fmt.Errorf("save registration of device %s: %w", r.DeviceID, err)
	}
	return nil
}

// DeleteRegistration removes one binding, or every binding of the device
// when contact is empty (an un-register with "*").
func (c *CallLogDB) DeleteRegistration(ctx context.Context, accountID, deviceID, contact string) error {
	err := c.db.write(ctx, func(tx *sql.Tx) error {
		if contact == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM registrations WHERE account_id = ? AND device_id = ?`, accountID, deviceID)
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM registrations WHERE account_id = ? AND device_id = ? AND contact = ?`,
			accountID, deviceID, contact)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete registration of device %s: %w", deviceID, err)
	}
	return nil
}

// Registrations returns every binding still valid at now, dropping the
// expired ones from the table first.
func (c *CallLogDB) Registrations(ctx context.Context, now time.Time) ([]store.Registration, error) {
	err := c.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM registrations WHERE expires <= ?`, millis(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("prune registrations: %w", err)
	}
	rows, err := c.db.r.QueryContext(ctx, `SELECT `+registrationColumns+` FROM registrations
		ORDER BY account_id, device_id, contact`)
	if err != nil {
		return nil, fmt.Errorf("list registrations: %w", err)
	}
	defer rows.Close()
	var out []store.Registration
	for rows.Next() {
		var r store.Registration
		var exp, upd int64
		if err := rows.Scan(&r.AccountID, &r.DeviceID, &r.Contact, &r.OwnerID, &r.Username, &r.Realm, &r.Source,
			&r.Transport, &r.CallID, &r.CSeq, &r.UserAgent, &exp, &upd); err != nil {
			return nil, fmt.Errorf("list registrations: %w", err)
		}
		r.Expires, r.Updated = fromMillis(exp), fromMillis(upd)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list registrations: %w", err)
	}
	return out, nil
}
