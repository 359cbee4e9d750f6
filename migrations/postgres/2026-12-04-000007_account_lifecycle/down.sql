DROP TABLE email_verification_tokens;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_family_id_fkey;
DROP TABLE sessions;
ALTER TABLE users DROP COLUMN email_verified_at;
