-- Users, devices and groups now record the media their music on hold
-- names (music_on_hold.media_id) among their references, so that such a
-- media is not deleted while in use. Those saved before are indexed again
-- at the next start (DB.Reindex), dangling or not.

INSERT INTO document_reindex (account_id, id)
	SELECT account_id, id FROM documents
	WHERE kind IN ('users', 'devices', 'groups') AND json_valid(CAST(body AS TEXT))
		AND json_type(CAST(body AS TEXT), '$.music_on_hold.media_id') = 'text'
	ON CONFLICT DO NOTHING;
