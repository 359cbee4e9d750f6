//! The users wire format, and the one named function per body that parses it into a
//! domain command.

use application::CreateUser;
use domain::{Email, Password, Role, User, UserChanges, UserName};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::page::PageDto;
use crate::errors::ValidationErrors;
use crate::timestamp::Timestamp;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize, Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub(crate) enum RoleDto {
    User,
    Admin,
}

impl From<RoleDto> for Role {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::User => Self::User,
            RoleDto::Admin => Self::Admin,
        }
    }
}

impl From<Role> for RoleDto {
    fn from(role: Role) -> Self {
        match role {
            Role::User => Self::User,
            Role::Admin => Self::Admin,
        }
    }
}

/// A user, as every authenticated caller may see it (never a password or its hash).
#[derive(Debug, Object, Serialize)]
#[oai(rename = "User", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserDto {
    id: Uuid,
    /// Lower-cased.
    email: String,
    name: Option<String>,
    role: RoleDto,
    /// Whether the user confirmed the address through an emailed link.
    email_verified: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<User> for UserDto {
    fn from(user: User) -> Self {
        Self {
            id: user.id.as_uuid(),
            email: user.email.as_str().to_owned(),
            name: user.name.map(|name| name.as_str().to_owned()),
            role: user.role.into(),
            email_verified: user.email_verified,
            created_at: user.created_at.into(),
            updated_at: user.updated_at.into(),
        }
    }
}

/// One page of users.
pub(crate) type UserPage = PageDto<UserDto>;

/// `POST /api/v1/users`.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "CreateUser", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateUserBody {
    /// A valid address; stored lower-cased, unique case-insensitively.
    email: String,
    password: String,
    name: Option<String>,
    /// Defaults to `user`.
    role: Option<RoleDto>,
}

impl TryFrom<CreateUserBody> for CreateUser {
    type Error = ValidationErrors;

    fn try_from(body: CreateUserBody) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", Email::parse(&body.email));
        let password = errors.check("password", Password::parse(&body.password));
        let name = errors.check(
            "name",
            body.name.as_deref().map(UserName::parse).transpose(),
        );
        let (Some(email), Some(password), Some(name)) = (email, password, name) else {
            return Err(errors);
        };
        Ok(Self {
            email,
            password,
            name,
            role: body.role.map_or(Role::User, Role::from),
        })
    }
}

/// `PUT /api/v1/users/{id}`: only the given fields change. No password here.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "UpdateUser", rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct UpdateUserBody {
    email: Option<String>,
    name: Option<String>,
    /// Only admins may change a role.
    role: Option<RoleDto>,
}

impl TryFrom<UpdateUserBody> for UserChanges {
    type Error = ValidationErrors;

    fn try_from(body: UpdateUserBody) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", body.email.as_deref().map(Email::parse).transpose());
        let name = errors.check(
            "name",
            body.name.as_deref().map(UserName::parse).transpose(),
        );
        let (Some(email), Some(name)) = (email, name) else {
            return Err(errors);
        };
        Ok(Self {
            email,
            name,
            role: body.role.map(Role::from),
        })
    }
}
