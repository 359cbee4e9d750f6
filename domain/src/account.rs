//! Accounts and transfers, and the rules a transfer must satisfy.

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::id::{AccountId, TransferId, UserId};
use crate::money::{Amount, Balance, Currency};

/// An account holding a balance in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub owner_id: UserId,
    pub balance: Balance,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A completed movement of money between two accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: TransferId,
    pub from_account_id: AccountId,
    pub to_account_id: AccountId,
    pub amount: Amount,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
}

/// Why a transfer is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransferRuleError {
    #[error("Cannot transfer to the same account")]
    SameAccount,
    #[error("Forbidden")]
    NotOwner,
    #[error("Currency mismatch")]
    CurrencyMismatch,
    #[error("Insufficient funds")]
    InsufficientFunds,
}

impl Actor {
    /// Only the owner or an admin reads an account or its history.
    #[must_use]
    pub fn may_see_account(&self, account: &Account) -> bool {
        self.is_admin() || account.owner_id == self.user_id
    }
}

/// Checks a transfer of `amount` from `from` to `to` by `actor`: distinct accounts, the
/// actor owns the source (admins may move money from any account), one currency, and
/// enough money in the source. The persistence adapter re-checks the balance atomically.
pub fn check_transfer(
    actor: &Actor,
    from: &Account,
    to: &Account,
    amount: Amount,
) -> Result<(), TransferRuleError> {
    if from.id == to.id {
        return Err(TransferRuleError::SameAccount);
    }
    if !actor.is_admin() && from.owner_id != actor.user_id {
        return Err(TransferRuleError::NotOwner);
    }
    if from.currency != to.currency {
        return Err(TransferRuleError::CurrencyMismatch);
    }
    if !from.balance.covers(amount) {
        return Err(TransferRuleError::InsufficientFunds);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Role;

    fn account(owner: UserId, balance: i64, currency: &str) -> Account {
        Account {
            id: AccountId::generate(),
            owner_id: owner,
            balance: Balance::new(balance).unwrap(),
            currency: Currency::parse(currency).unwrap(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn user(id: UserId) -> Actor {
        Actor {
            user_id: id,
            role: Role::User,
        }
    }

    fn amount(units: i64) -> Amount {
        Amount::new(units).unwrap()
    }

    #[test]
    fn an_owner_moves_money_they_have_in_one_currency() {
        let ann = UserId::generate();
        let (from, to) = (
            account(ann, 100, "USD"),
            account(UserId::generate(), 0, "USD"),
        );
        assert_eq!(check_transfer(&user(ann), &from, &to, amount(100)), Ok(()));
    }

    #[test]
    fn a_transfer_to_the_same_account_is_refused() {
        let ann = UserId::generate();
        let from = account(ann, 100, "USD");
        assert_eq!(
            check_transfer(&user(ann), &from, &from, amount(1)),
            Err(TransferRuleError::SameAccount)
        );
    }

    #[test]
    fn only_the_owner_or_an_admin_moves_money_out() {
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let (from, to) = (account(ann, 100, "USD"), account(bob, 0, "USD"));
        assert_eq!(
            check_transfer(&user(bob), &from, &to, amount(1)),
            Err(TransferRuleError::NotOwner)
        );
        let admin = Actor {
            user_id: UserId::generate(),
            role: Role::Admin,
        };
        assert_eq!(check_transfer(&admin, &from, &to, amount(1)), Ok(()));
    }

    #[test]
    fn currencies_must_match() {
        let ann = UserId::generate();
        let (from, to) = (account(ann, 100, "USD"), account(ann, 0, "EUR"));
        assert_eq!(
            check_transfer(&user(ann), &from, &to, amount(1)),
            Err(TransferRuleError::CurrencyMismatch)
        );
    }

    #[test]
    fn the_source_must_hold_the_amount() {
        let ann = UserId::generate();
        let (from, to) = (account(ann, 99, "USD"), account(ann, 0, "USD"));
        assert_eq!(
            check_transfer(&user(ann), &from, &to, amount(100)),
            Err(TransferRuleError::InsufficientFunds)
        );
    }
}
