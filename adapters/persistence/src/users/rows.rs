//! The users table's rows and changeset, and their conversion into domain values.

use diesel::prelude::*;
use domain::ports::RepositoryError;
use domain::{Email, Role, User, UserId, UserName};

use crate::schema::users;
use crate::sql_types::{DbId, DbTime};

/// A user as read for everyone: without the password hash.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(super) struct UserRow {
    pub(super) id: DbId,
    pub(super) email: String,
    pub(super) name: Option<String>,
    pub(super) role: String,
    pub(super) email_verified_at: Option<DbTime>,
    pub(super) created_at: DbTime,
    pub(super) updated_at: DbTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(super) struct CredentialsRow {
    #[diesel(embed)]
    pub(super) user: UserRow,
    pub(super) password_hash: String,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(super) struct NewUserRow {
    pub(super) id: DbId,
    pub(super) email: String,
    pub(super) password_hash: String,
    pub(super) name: Option<String>,
    pub(super) role: &'static str,
    pub(super) email_verified_at: Option<DbTime>,
    pub(super) created_at: DbTime,
    pub(super) updated_at: DbTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub(super) struct UserChangeset {
    pub(super) email: Option<String>,
    pub(super) name: Option<String>,
    pub(super) role: Option<&'static str>,
    /// `Some(None)` when the address changes: it is not verified any more.
    #[expect(
        clippy::option_option,
        reason = "diesel's changeset: `None` leaves the column, `Some(None)` sets NULL"
    )]
    pub(super) email_verified_at: Option<Option<DbTime>>,
    pub(super) updated_at: DbTime,
}

impl TryFrom<UserRow> for User {
    type Error = RepositoryError;

    /// Rows are parsed like any other input: a row that breaks an invariant is reported,
    /// not turned into an invalid value.
    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let corrupt =
            |what: &str| RepositoryError(anyhow::anyhow!("corrupt user row {}: {what}", row.id.0));
        Ok(Self {
            id: UserId::from_uuid(row.id.0),
            email: Email::parse(&row.email).map_err(|_| corrupt("email"))?,
            name: row
                .name
                .as_deref()
                .map(UserName::parse)
                .transpose()
                .map_err(|_| corrupt("name"))?,
            role: row.role.parse::<Role>().map_err(|_| corrupt("role"))?,
            email_verified: row.email_verified_at.is_some(),
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}
