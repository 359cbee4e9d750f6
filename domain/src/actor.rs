//! Who is acting, and the authorization rules that depend on it.
//!
//! The rules are pure functions of the actor and the target so that they can be tested
//! without a database or a web server; the use cases call them before touching storage.

use crate::id::UserId;
use crate::user::{Role, User, UserChanges};

/// The authenticated caller of a use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
}

/// The actor is authenticated but not allowed to do this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Forbidden")]
pub struct Forbidden;

impl Actor {
    #[must_use]
    pub const fn is_admin(&self) -> bool {
        matches!(self.role, Role::Admin)
    }

    /// Only admins create users on behalf of others (self-service sign-up is the auth flow).
    pub const fn may_create_users(&self) -> Result<(), Forbidden> {
        self.require_admin()
    }

    /// Only admins delete users.
    pub const fn may_delete_users(&self) -> Result<(), Forbidden> {
        self.require_admin()
    }

    /// A user may edit their own profile and an admin anyone's; only an admin may change a
    /// role (restating the current role is not a change). This closes the seed's hole where
    /// any user could `PUT {"role": "admin"}` on themselves.
    pub fn may_update_user(&self, target: &User, changes: &UserChanges) -> Result<(), Forbidden> {
        if self.is_admin() {
            return Ok(());
        }
        if self.user_id != target.id || changes.changes_role_of(target) {
            return Err(Forbidden);
        }
        Ok(())
    }

    /// Whether the actor may edit the profile of `target` at all (before loading it).
    #[must_use]
    pub fn may_edit_profile_of(&self, target: UserId) -> bool {
        self.is_admin() || self.user_id == target
    }

    const fn require_admin(&self) -> Result<(), Forbidden> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::user::Email;

    fn user(role: Role) -> User {
        let now = Utc::now();
        User {
            id: UserId::generate(),
            email: Email::parse("ann@example.com").unwrap(),
            name: None,
            role,
            email_verified: false,
            created_at: now,
            updated_at: now,
        }
    }

    fn actor_of(user: &User) -> Actor {
        Actor {
            user_id: user.id,
            role: user.role,
        }
    }

    #[test]
    fn a_user_may_update_their_own_profile() {
        let ann = user(Role::User);
        let changes = UserChanges {
            email: Some(Email::parse("new@example.com").unwrap()),
            ..UserChanges::default()
        };
        assert_eq!(actor_of(&ann).may_update_user(&ann, &changes), Ok(()));
    }

    #[test]
    fn a_user_may_not_update_another_user() {
        let (ann, bob) = (user(Role::User), user(Role::User));
        assert_eq!(
            actor_of(&ann).may_update_user(&bob, &UserChanges::default()),
            Err(Forbidden)
        );
    }

    #[test]
    fn a_user_may_not_promote_themselves_to_admin() {
        let ann = user(Role::User);
        let changes = UserChanges {
            role: Some(Role::Admin),
            ..UserChanges::default()
        };
        assert_eq!(
            actor_of(&ann).may_update_user(&ann, &changes),
            Err(Forbidden)
        );
    }

    #[test]
    fn restating_ones_own_role_is_not_a_role_change() {
        let ann = user(Role::User);
        let changes = UserChanges {
            role: Some(Role::User),
            ..UserChanges::default()
        };
        assert_eq!(actor_of(&ann).may_update_user(&ann, &changes), Ok(()));
    }

    #[test]
    fn an_admin_may_change_anyones_role() {
        let (admin, bob) = (user(Role::Admin), user(Role::User));
        let changes = UserChanges {
            role: Some(Role::Admin),
            ..UserChanges::default()
        };
        assert_eq!(actor_of(&admin).may_update_user(&bob, &changes), Ok(()));
    }

    #[test]
    fn only_admins_create_and_delete_users() {
        let (admin, ann) = (user(Role::Admin), user(Role::User));
        assert_eq!(actor_of(&admin).may_create_users(), Ok(()));
        assert_eq!(actor_of(&admin).may_delete_users(), Ok(()));
        assert_eq!(actor_of(&ann).may_create_users(), Err(Forbidden));
        assert_eq!(actor_of(&ann).may_delete_users(), Err(Forbidden));
    }
}
