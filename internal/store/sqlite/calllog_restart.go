package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// CloseUnended ends every call the log still shows in progress — calls a
// previous process was running when it died (kill -9, a crash, power) —
// with cause and by "switchboard", at the last moment anything was known of
// the call (its last webhook exchange, else its start), and a trace whose
// last line says so. It is meant for start-up, before any call runs, and
// returns how many calls it closed.
func (c *CallLogDB) CloseUnended(ctx context.Context, cause string) (int, error) {
	n := 0
	err := c.db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.account_id, c.id, c.started, length(c.trace),
				COALESCE((SELECT MAX(w.started + w.duration_ms) FROM webhooks w
					WHERE w.account_id = c.account_id AND w.call_id = c.id), c.started)
			FROM calls c WHERE c.ended IS NULL`)
		if err != nil {
			return err
		}
		type open struct {
			account, id   string
			started, last int64
			traceLen      int
		}
		var calls []open
		for rows.Next() {
			var o open
			if err := rows.Scan(&o.account, &o.id, &o.started, &o.traceLen, &o.last); err != nil {
				rows.Close()
				return err
			}
			calls = append(calls, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, o := range calls {
			ended := max(o.last, o.started)
			quoted, err := json.Marshal(cause)
			if err != nil {
				return err
			}
			line := fmt.Appendf(nil, `{"op":"hangup","t_ms":%d,"cause":%s,"by":"switchboard"}`+"\n", ended-o.started, quoted)
			// A trace saved while the call ran stays; the hangup line is
			// added after it, so the trace still ends with a hangup.
			if _, err := tx.ExecContext(ctx, `UPDATE calls SET ended = ?, hangup_cause = ?, hangup_by = 'switchboard',
					trace = CAST(trace || ? AS BLOB)
				WHERE account_id = ? AND id = ? AND ended IS NULL`,
				ended, cause, line, o.account, o.id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("close unended calls: %w", err)
	}
	return n, nil
}
