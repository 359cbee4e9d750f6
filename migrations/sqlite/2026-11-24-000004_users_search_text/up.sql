-- The users search column (see the PostgreSQL migration of the same name). SQLite can only
-- add a VIRTUAL generated column to an existing table; it is computed when read.
ALTER TABLE users ADD COLUMN search_text TEXT
    GENERATED ALWAYS AS (lower(coalesce(name, '') || char(10) || email)) VIRTUAL;
