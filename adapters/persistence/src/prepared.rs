//! PostgreSQL statements written as SQL text, kept prepared.
//!
//! diesel never caches a `diesel::sql_query` as a prepared statement, so PostgreSQL parses
//! and plans it on every call. For a hot statement that costs more than it saves: the
//! one-statement transfer was slower than the six statements it replaced until it got a
//! query type of its own, and job claims ran a third faster once theirs was prepared
//! (bench/README.md). [`postgres_statement!`] declares such a type: diesel caches a query by
//! its type, so each statement must have its own.

/// Declares `$name`, a query whose SQL is `$sql` with the fields bound to `$1`, `$2`, ... in
/// the order they are listed (`field: RustType as SqlType`), and whose rows have the SQL type
/// `$row` (`Untyped` for rows read by name). A compile-time check keeps it cacheable.
macro_rules! postgres_statement {
    (
        $(#[$meta:meta])*
        struct $name:ident($sql:expr) -> $row:ty {
            $($field:ident: $rust:ty as $bind:ty),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(diesel::query_builder::QueryId)]
        struct $name {
            $($field: $rust),+
        }

        // Statements without a static query id are never cached; this one must be.
        const _: () = assert!(<$name as diesel::query_builder::QueryId>::HAS_STATIC_QUERY_ID);

        impl diesel::query_builder::Query for $name {
            type SqlType = $row;
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($sql);
                $(out.push_bind_param_value_only::<$bind, _>(&self.$field)?;)+
                Ok(())
            }
        }
    };
}

pub(crate) use postgres_statement;
