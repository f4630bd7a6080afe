DROP TABLE seal_upload_sessions;
