-- The database work of one GET /api/v1/users?search=<term>&limit=10 as the service sends it:
-- the page statement (the total is reused for two seconds, so it is left out), with a term
-- from the kit's 20 name words, lower-cased like the service does.
\set w random(1, 20)
SELECT id, email, name, role, created_at, updated_at FROM users
WHERE search_text LIKE '%' || (string_to_array('olivia liam emma noah ava james sofia lucas mia ethan smith garcia nguyen patel kim rossi khan miller brown lee', ' '))[:w] || '%' ESCAPE '\'
ORDER BY created_at, id LIMIT 10 OFFSET 0;
