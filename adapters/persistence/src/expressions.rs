//! SQL expressions that differ between the backends.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::sqlite::Sqlite;

/// `expression` contains `needle`, ignoring case: `ILIKE` on PostgreSQL (Unicode-aware,
/// served by the pg_trgm indexes), `LIKE` on SQLite (case-insensitive for ASCII only).
/// `%`, `_` and `\` in the needle match themselves.
#[derive(Debug, Clone)]
pub(crate) struct ContainsIgnoringCase<E> {
    expression: E,
    pattern: String,
}

pub(crate) fn contains_ignoring_case<E>(expression: E, needle: &str) -> ContainsIgnoringCase<E> {
    ContainsIgnoringCase {
        expression,
        pattern: contains_pattern(needle),
    }
}

/// A `LIKE` pattern (escape character `\`) matching any text that contains `needle`.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for character in needle.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

impl<E> ContainsIgnoringCase<E> {
    fn walk<'b, DB>(&'b self, operator: &str, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: diesel::backend::Backend,
        E: QueryFragment<DB>,
        String: diesel::serialize::ToSql<Text, DB>,
        DB: diesel::sql_types::HasSqlType<Text>,
    {
        out.push_sql("(");
        self.expression.walk_ast(out.reborrow())?;
        out.push_sql(operator);
        out.push_bind_param::<Text, _>(&self.pattern)?;
        out.push_sql(" ESCAPE '\\')");
        Ok(())
    }
}

impl<E: Expression> Expression for ContainsIgnoringCase<E> {
    // Nullable because the searched column may be NULL (`name`).
    type SqlType = Nullable<Bool>;
}

impl<E: QueryFragment<Pg>> QueryFragment<Pg> for ContainsIgnoringCase<E> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(" ILIKE ", out)
    }
}

impl<E: QueryFragment<Sqlite>> QueryFragment<Sqlite> for ContainsIgnoringCase<E> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(" LIKE ", out)
    }
}

/// The SQL text depends only on `E` (the pattern is a bind parameter), so statements using
/// this expression can be prepared once and cached per connection.
impl<E: QueryId> QueryId for ContainsIgnoringCase<E> {
    type QueryId = ContainsIgnoringCase<E::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = E::HAS_STATIC_QUERY_ID;
}

impl<E: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for ContainsIgnoringCase<E> where Self: Expression
{}

impl<E: SelectableExpression<QS>, QS> SelectableExpression<QS> for ContainsIgnoringCase<E> where
    Self: AppearsOnTable<QS>
{
}

impl<E: ValidGrouping<GroupBy>, GroupBy> ValidGrouping<GroupBy> for ContainsIgnoringCase<E> {
    type IsAggregate = E::IsAggregate;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_the_needle_are_escaped() {
        let expression = contains_ignoring_case((), r"50%_a\b");
        assert_eq!(expression.pattern, r"%50\%\_a\\b%");
    }
}
