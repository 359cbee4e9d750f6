-- One user by primary key: the database work of GET /api/v1/users/{id}. The id comes from
-- bench_users (n -> id), which compare.sh fills from the users the load kit registered.
\set n random(1, :users)
SELECT id, email, name, role, created_at, updated_at FROM users WHERE id = (SELECT id FROM bench_users WHERE n = :n);
