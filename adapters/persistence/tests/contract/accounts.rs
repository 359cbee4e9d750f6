//! The `AccountRepository` contract.

use adapter_persistence::{Database, DieselAccountRepository};
use chrono::Duration;
use domain::ports::{
    AccountRepository, DepositCommand, DepositError, IdempotencyKey, NewAccount, TransferCommand,
    TransferError,
};
use domain::{
    AccountId, Actor, Amount, Currency, PageRequest, Role, TransferId, TransferRuleError, UserId,
};

use super::{now, user};

contract!(DieselAccountRepository;
    a_new_account_has_a_zero_balance_and_is_listed_for_its_owner,
    a_deposit_adds_money_and_a_missing_account_is_reported,
    a_transfer_moves_money_and_names_the_recipient,
    the_domain_rules_refuse_and_nothing_moves,
    the_guarded_debit_refuses_an_overdraft,
    an_idempotency_key_replays_the_same_request_and_refuses_another,
    an_expired_idempotency_key_is_forgotten,
    history_lists_both_directions_newest_first,
);

async fn account(
    accounts: &DieselAccountRepository,
    owner: UserId,
    currency: &str,
    balance: i64,
) -> AccountId {
    let id = AccountId::generate();
    accounts
        .insert(NewAccount {
            id,
            owner_id: owner,
            currency: Currency::parse(currency).unwrap(),
            created_at: now(),
        })
        .await
        .unwrap();
    if balance > 0 {
        accounts
            .deposit(DepositCommand {
                account_id: id,
                amount: Amount::new(balance).unwrap(),
                idempotency: None,
                now: now(),
            })
            .await
            .unwrap();
    }
    id
}

fn transfer(
    actor: UserId,
    from: AccountId,
    to: AccountId,
    amount: i64,
    key: Option<&str>,
) -> TransferCommand {
    TransferCommand {
        id: TransferId::generate(),
        actor: Actor {
            user_id: actor,
            role: Role::User,
        },
        from,
        to,
        amount: Amount::new(amount).unwrap(),
        idempotency: key.map(|key| IdempotencyKey {
            user_id: actor,
            key: key.to_owned(),
            fingerprint: format!("transfer:{from}:{to}:{amount}"),
            expires_at: now() + Duration::hours(24),
        }),
        now: now(),
    }
}

async fn balance(accounts: &DieselAccountRepository, id: AccountId) -> i64 {
    accounts.find_by_id(id).await.unwrap().unwrap().balance
}

async fn a_new_account_has_a_zero_balance_and_is_listed_for_its_owner(
    accounts: &DieselAccountRepository,
    database: &Database,
) {
    let (ann, bob) = (user(database).await, user(database).await);
    let id = account(accounts, ann, "EUR", 0).await;
    account(accounts, bob, "USD", 0).await;

    let found = accounts.find_by_id(id).await.unwrap().unwrap();
    let anns = accounts
        .list(Some(ann), PageRequest::default())
        .await
        .unwrap();
    let all = accounts.list(None, PageRequest::default()).await.unwrap();

    assert_eq!(
        (found.balance, found.currency.as_str(), found.owner_id),
        (0, "EUR", ann)
    );
    assert_eq!(
        anns.items
            .iter()
            .map(|account| account.id)
            .collect::<Vec<_>>(),
        [id]
    );
    assert_eq!(all.total, 2);
}

async fn a_deposit_adds_money_and_a_missing_account_is_reported(
    accounts: &DieselAccountRepository,
    database: &Database,
) {
    let ann = user(database).await;
    let id = account(accounts, ann, "USD", 100).await;

    let after = accounts
        .deposit(DepositCommand {
            account_id: id,
            amount: Amount::new(50).unwrap(),
            idempotency: None,
            now: now(),
        })
        .await
        .unwrap();
    let missing = accounts
        .deposit(DepositCommand {
            account_id: AccountId::generate(),
            amount: Amount::new(1).unwrap(),
            idempotency: None,
            now: now(),
        })
        .await;

    assert_eq!(after.balance, 150);
    assert!(matches!(missing, Err(DepositError::AccountNotFound)));
}

async fn a_transfer_moves_money_and_names_the_recipient(
    accounts: &DieselAccountRepository,
    database: &Database,
) {
    let (ann, bob) = (user(database).await, user(database).await);
    let (from, to) = (
        account(accounts, ann, "USD", 100).await,
        account(accounts, bob, "USD", 0).await,
    );

    let outcome = accounts
        .transfer(transfer(ann, from, to, 40, None))
        .await
        .unwrap();

    assert_eq!((outcome.recipient_id, outcome.replayed), (bob, false));
    assert_eq!(outcome.transfer.amount.minor_units(), 40);
    assert_eq!(
        (balance(accounts, from).await, balance(accounts, to).await),
        (60, 40)
    );
}

async fn the_domain_rules_refuse_and_nothing_moves(
    accounts: &DieselAccountRepository,
    database: &Database,
) {
    let (ann, bob) = (user(database).await, user(database).await);
    let usd = account(accounts, ann, "USD", 100).await;
    let eur = account(accounts, ann, "EUR", 100).await;
    let bobs = account(accounts, bob, "USD", 100).await;

    let mismatch = accounts.transfer(transfer(ann, usd, eur, 1, None)).await;
    let not_owner = accounts.transfer(transfer(ann, bobs, usd, 1, None)).await;
    let same = accounts.transfer(transfer(ann, usd, usd, 1, None)).await;
    let missing_id = AccountId::generate();
    let missing = accounts
        .transfer(transfer(ann, usd, missing_id, 1, None))
        .await;

    assert!(matches!(
        mismatch,
        Err(TransferError::Rule(TransferRuleError::CurrencyMismatch))
    ));
    assert!(matches!(
        not_owner,
        Err(TransferError::Rule(TransferRuleError::NotOwner))
    ));
    assert!(matches!(
        same,
        Err(TransferError::Rule(TransferRuleError::SameAccount))
    ));
    assert!(matches!(missing, Err(TransferError::AccountNotFound(id)) if id == missing_id));
    for id in [usd, eur, bobs] {
        assert_eq!(balance(accounts, id).await, 100);
    }
}

async fn the_guarded_debit_refuses_an_overdraft(
    accounts: &DieselAccountRepository,
    database: &Database,
) {
    let ann = user(database).await;
    let (from, to) = (
        account(accounts, ann, "USD", 10).await,
        account(accounts, ann, "USD", 0).await,
    );

    let result = accounts.transfer(transfer(ann, from, to, 11, None)).await;

    assert!(matches!(
        result,
        Err(TransferError::Rule(TransferRuleError::InsufficientFunds))
    ));
    assert_eq!(
        (balance(accounts, from).await, balance(accounts, to).await),
        (10, 0)
    );
}

async fn an_idempotency_key_replays_the_same_request_and_refuses_another(
    accounts: &DieselAccountRepository,
    database: &Database,
) {
    let ann = user(database).await;
    let (from, to) = (
        account(accounts, ann, "USD", 100).await,
        account(accounts, ann, "USD", 0).await,
    );

    let first = accounts
        .transfer(transfer(ann, from, to, 30, Some("k")))
        .await
        .unwrap();
    let replay = accounts
        .transfer(transfer(ann, from, to, 30, Some("k")))
        .await
        .unwrap();
    let other = accounts
        .transfer(transfer(ann, from, to, 31, Some("k")))
        .await;

    assert_eq!(replay.transfer.id, first.transfer.id);
    assert!(replay.replayed);
    assert!(matches!(other, Err(TransferError::IdempotencyConflict)));
    assert_eq!(balance(accounts, to).await, 30);
}

async fn an_expired_idempotency_key_is_forgotten(
    accounts: &DieselAccountRepository,
    database: &Database,
) {
    let ann = user(database).await;
    let (from, to) = (
        account(accounts, ann, "USD", 100).await,
        account(accounts, ann, "USD", 0).await,
    );
    accounts
        .transfer(transfer(ann, from, to, 30, Some("old")))
        .await
        .unwrap();

    let mut later = transfer(ann, from, to, 30, Some("old"));
    later.now = now() + Duration::hours(25);
    let again = accounts.transfer(later).await.unwrap();

    assert!(!again.replayed);
    assert_eq!(balance(accounts, to).await, 60);
}

async fn history_lists_both_directions_newest_first(
    accounts: &DieselAccountRepository,
    database: &Database,
) {
    let ann = user(database).await;
    let (a, b) = (
        account(accounts, ann, "USD", 100).await,
        account(accounts, ann, "USD", 100).await,
    );
    let mut first = transfer(ann, a, b, 1, None);
    first.now = now();
    let mut second = transfer(ann, b, a, 2, None);
    second.now = now() + Duration::seconds(1);
    let first = accounts.transfer(first).await.unwrap().transfer.id;
    let second = accounts.transfer(second).await.unwrap().transfer.id;

    let history = accounts
        .transfers_of(a, PageRequest::default())
        .await
        .unwrap();

    assert_eq!(
        history
            .items
            .iter()
            .map(|transfer| transfer.id)
            .collect::<Vec<_>>(),
        [second, first]
    );
    assert_eq!(history.total, 2);
}
