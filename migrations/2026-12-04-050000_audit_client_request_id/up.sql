-- The x-request-id a client sent, kept apart from the server's own request_id (issue 11):
-- a client may send any value, including another request's id, so it never replaces it.
ALTER TABLE audit_events ADD COLUMN client_request_id TEXT
    CHECK (client_request_id IS NULL OR length(client_request_id) <= 128);
