DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE sessions;
DROP TABLE role_grants;
DROP TABLE users;
DROP TABLE enti;
