DROP INDEX users_search_text_trgm_idx;
ALTER TABLE users DROP COLUMN search_text;
CREATE INDEX users_name_trgm_idx ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
