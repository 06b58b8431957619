-- calls_sip_call_id served no query: GetCall's lookup by SIP Call-ID
-- (account_id = ? AND sip_call_id = ? ORDER BY started DESC LIMIT 1) is
-- planned on calls_started, newest first, as EXPLAIN QUERY PLAN shows, and
-- nothing else reads sip_call_id. Kept up to date on every insert and
-- every prune's delete, it cost a random B-tree write per call and about
-- a WAL page per call at 1,800 calls/s.
DROP INDEX IF EXISTS calls_sip_call_id;
