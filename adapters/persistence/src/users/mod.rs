//! The user repository on Diesel (its rows are in `rows`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use domain::ports::{
    DeleteUserRecordError, InsertUserError, RepositoryError, UpdateUserRecordError, UserRepository,
};
use domain::{
    AuthState, Email, NewUser, NewVerificationToken, Page, PasswordHash, Role, SessionVersion,
    User, UserChanges, UserCredentials, UserId, UserQuery, leaves_no_admin,
};

mod rows;
mod search;

use self::rows::{CredentialsRow, NewUserRow, UserChangeset, UserRow};
use crate::admins::LockAdmins as _;
use crate::database::Database;
use crate::errors::{is_foreign_key_violation, is_unique_violation, unexpected};
use crate::jobs::{JobSignals, insert_jobs};
use crate::schema::users;
use crate::sessions::verification::{NewVerificationRow, store_verification_token};
use crate::sql_types::{DbId, DbTime};

const EMAIL_UNIQUE: &str = "users_email_key";
const EMAIL_UNIQUE_COLUMNS: &str = "users.email";

/// [`UserRepository`] on PostgreSQL or SQLite. Each listing counts its matches when its
/// page does not show the total; [`CachedTotals`](crate::CachedTotals) reuses the counts.
#[derive(Debug, Clone)]
pub struct DieselUserRepository {
    database: Database,
    jobs: JobSignals,
}

impl DieselUserRepository {
    /// The repository on `database`, reporting the jobs its writes store to `jobs`.
    #[must_use]
    pub fn new(database: Database, jobs: JobSignals) -> Self {
        Self { database, jobs }
    }
}

#[async_trait]
impl UserRepository for DieselUserRepository {
    #[tracing::instrument(name = "db users.insert", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), user_id = %user.id))]
    async fn insert(&self, mut user: NewUser) -> Result<User, InsertUserError> {
        let (job_rows, staged) = self.jobs.stage(user.take_outbox());
        let row = NewUserRow {
            id: DbId(user.id.as_uuid()),
            email: user.email.as_str().to_owned(),
            password_hash: user.password_hash.as_str().to_owned(),
            name: user.name.as_ref().map(|name| name.as_str().to_owned()),
            role: user.role.as_str(),
            email_verified_at: user.email_verified.then_some(DbTime(user.created_at)),
            created_at: DbTime(user.created_at),
            updated_at: DbTime(user.created_at),
        };
        let verification = user
            .email_verification
            .as_ref()
            .map(NewVerificationRow::from);
        let inserted = with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    let user = diesel::insert_into(users::table)
                        .values(&row)
                        .returning(UserRow::as_returning())
                        .get_result(transaction)
                        .await?;
                    if let Some(verification) = &verification {
                        store_verification_token!(transaction, verification)?;
                    }
                    insert_jobs!(transaction, &job_rows)?;
                    Ok(user)
                })
                .await
        });
        match inserted {
            Ok(row) => {
                self.jobs.committed(staged);
                Ok(row.try_into()?)
            }
            Err(error) if is_unique_violation(&error, EMAIL_UNIQUE, EMAIL_UNIQUE_COLUMNS) => {
                Err(InsertUserError::EmailTaken)
            }
            Err(error) => Err(unexpected(error).into()),
        }
    }

    #[tracing::instrument(name = "db users.find_by_id", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepositoryError> {
        let row = with_connection!(self.database, |connection| {
            users::table
                .find(DbId(id.as_uuid()))
                .select(UserRow::as_select())
                .first(connection)
                .await
                .optional()
                .map_err(unexpected)?
        });
        row.map(User::try_from).transpose()
    }

    #[tracing::instrument(name = "db users.find_auth_state", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn find_auth_state(&self, id: UserId) -> Result<Option<AuthState>, RepositoryError> {
        let row: Option<(String, i64)> = with_connection!(self.database, |connection| {
            users::table
                .find(DbId(id.as_uuid()))
                .select((users::role, users::session_version))
                .first(connection)
                .await
                .optional()
                .map_err(unexpected)?
        });
        row.map(|(role, session_version)| {
            let role = role
                .parse::<Role>()
                .map_err(|_| RepositoryError(anyhow::anyhow!("corrupt role of user {id}")))?;
            Ok(AuthState {
                role,
                session_version: SessionVersion::new(session_version),
            })
        })
        .transpose()
    }

    #[tracing::instrument(name = "db users.find_credentials_by_email", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, RepositoryError> {
        let row = with_connection!(self.database, |connection| {
            users::table
                .filter(users::email.eq(email.as_str()))
                .select(CredentialsRow::as_select())
                .first(connection)
                .await
                .optional()
                .map_err(unexpected)?
        });
        row.map(|row| {
            Ok(UserCredentials {
                user: row.user.try_into()?,
                password_hash: PasswordHash::from_phc(row.password_hash),
            })
        })
        .transpose()
    }

    #[tracing::instrument(name = "db users.list", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn list(&self, query: &UserQuery) -> Result<Page<User>, RepositoryError> {
        self.page_counted_by(query, || self.count(query.search.as_ref()))
            .await
    }

    #[tracing::instrument(name = "db users.update", skip(self, changes, verification), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        mut verification: Option<NewVerificationToken>,
        now: DateTime<Utc>,
    ) -> Result<User, UpdateUserRecordError> {
        let role_changes = changes.role.is_some();
        let demotes = changes.role.is_some_and(|role| role != Role::Admin);
        let outbox = verification
            .as_mut()
            .map(NewVerificationToken::take_outbox)
            .unwrap_or_default();
        let (job_rows, staged) = self.jobs.stage(outbox);
        let verification = verification.as_ref().map(NewVerificationRow::from);
        let changeset = UserChangeset {
            email_verified_at: changes.email.is_some().then_some(None),
            email: changes.email.map(|email| email.as_str().to_owned()),
            name: changes.name.map(|name| name.as_str().to_owned()),
            role: changes.role.map(Role::as_str),
            updated_at: DbTime(now),
        };
        let target = users::table.find(DbId(id.as_uuid()));
        let updated = with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    if demotes && leaves_no_admin(&transaction.lock_admins().await?, id) {
                        return Ok(Guarded::LastAdmin);
                    }
                    let row = if role_changes {
                        // A new role invalidates the access tokens that carry the old one.
                        diesel::update(target)
                            .set((
                                &changeset,
                                users::session_version.eq(users::session_version + 1),
                            ))
                            .returning(UserRow::as_returning())
                            .get_result(transaction)
                            .await
                            .optional()?
                    } else {
                        diesel::update(target)
                            .set(&changeset)
                            .returning(UserRow::as_returning())
                            .get_result(transaction)
                            .await
                            .optional()?
                    };
                    let Some(row) = row else {
                        return Ok(Guarded::NotFound);
                    };
                    if let Some(verification) = &verification {
                        store_verification_token!(transaction, verification)?;
                    }
                    insert_jobs!(transaction, &job_rows)?;
                    Ok(Guarded::Done(row))
                })
                .await
        });
        match updated {
            Ok(Guarded::Done(row)) => {
                self.jobs.committed(staged);
                Ok(row.try_into()?)
            }
            Ok(Guarded::NotFound) => Err(UpdateUserRecordError::NotFound),
            Ok(Guarded::LastAdmin) => Err(UpdateUserRecordError::LastAdmin),
            Err(error) if is_unique_violation(&error, EMAIL_UNIQUE, EMAIL_UNIQUE_COLUMNS) => {
                Err(UpdateUserRecordError::EmailTaken)
            }
            Err(error) => Err(unexpected(error).into()),
        }
    }

    #[tracing::instrument(name = "db users.delete", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn delete(&self, id: UserId) -> Result<(), DeleteUserRecordError> {
        let deleted = with_connection!(self.database, |connection| {
            connection
                .transaction::<_, diesel::result::Error, _>(async move |transaction| {
                    if leaves_no_admin(&transaction.lock_admins().await?, id) {
                        return Ok(Guarded::LastAdmin);
                    }
                    let deleted = diesel::delete(users::table.find(DbId(id.as_uuid())))
                        .execute(transaction)
                        .await?;
                    Ok(if deleted == 0 {
                        Guarded::NotFound
                    } else {
                        Guarded::Done(())
                    })
                })
                .await
        });
        match deleted {
            Ok(Guarded::Done(())) => Ok(()),
            Ok(Guarded::NotFound) => Err(DeleteUserRecordError::NotFound),
            Ok(Guarded::LastAdmin) => Err(DeleteUserRecordError::LastAdmin),
            Err(error) if is_foreign_key_violation(&error) => {
                Err(DeleteUserRecordError::OwnsAccounts)
            }
            Err(error) => Err(unexpected(error).into()),
        }
    }
}

/// What a change guarded by the last-admin rule came to.
enum Guarded<T> {
    Done(T),
    NotFound,
    LastAdmin,
}
