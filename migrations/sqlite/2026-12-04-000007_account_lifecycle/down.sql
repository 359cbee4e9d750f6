DROP TABLE email_verification_tokens;
DROP TABLE sessions;
ALTER TABLE users DROP COLUMN email_verified_at;
