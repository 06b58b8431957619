-- Calls are named by their CallSid (CA…); the SIP Call-ID is kept beside
-- it so a call can still be found by what a SIP trace shows. Calls stored
-- before have their SIP Call-ID as id and '' here.
ALTER TABLE calls ADD COLUMN sip_call_id TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_sip_call_id ON calls (account_id, sip_call_id);
