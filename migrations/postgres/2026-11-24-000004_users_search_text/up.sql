-- One lower-cased column for the users search, with one trigram index: `search_text LIKE
-- '%term%'` on text that is already lower case costs a fraction of `name ILIKE ... OR email
-- ILIKE ...`, which lower-cases every row it looks at. A newline separates name and email
-- (search terms cannot contain one), so a term never matches across the two.
ALTER TABLE users ADD COLUMN search_text text
    GENERATED ALWAYS AS (lower(coalesce(name, '') || E'\n' || email)) STORED;
DROP INDEX users_name_trgm_idx;
DROP INDEX users_email_trgm_idx;
CREATE INDEX users_search_text_trgm_idx ON users USING gin (search_text gin_trgm_ops);
