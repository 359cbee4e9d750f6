DROP TABLE password_reset_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE users DROP COLUMN session_version;
