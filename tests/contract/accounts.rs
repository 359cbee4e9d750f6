//! The `AccountRepository` contract.

use std::sync::Arc;

use bootstrap::Storage;
use chrono::Duration;
use domain::ports::{
    AccountRepository, DepositCommand, DepositError, IdempotencyClaim, NewAccount, TransferCommand,
    TransferError, TransferOutcome,
};
use domain::{
    AccountId, Actor, Amount, Currency, IdempotencyKey, PageRequest, RequestFingerprint, Role,
    TransferId, TransferRuleError, UserId,
};

use super::{now, user};

contract!(Storage::accounts;
    a_new_account_has_a_zero_balance_and_is_listed_for_its_owner,
    a_deposit_adds_money_and_a_missing_account_is_reported,
    a_transfer_moves_money_and_names_the_recipient,
    the_domain_rules_refuse_and_nothing_moves,
    the_guarded_debit_refuses_an_overdraft,
    an_admin_moves_money_out_of_any_account,
    concurrent_transfers_in_opposite_directions_all_complete_and_conserve_money,
    concurrent_debits_never_overdraw,
    money_received_and_spent_at_once_is_never_an_error,
    an_idempotency_key_replays_the_same_request_and_refuses_another,
    an_expired_idempotency_key_is_forgotten,
    history_lists_both_directions_newest_first,
);

async fn account(
    accounts: &Arc<dyn AccountRepository>,
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
        idempotency: key.map(|key| IdempotencyClaim {
            user_id: actor,
            key: IdempotencyKey::parse(key.as_bytes()).unwrap(),
            fingerprint: RequestFingerprint::Transfer {
                from,
                to,
                amount: Amount::new(amount).unwrap(),
            },
            expires_at: now() + Duration::hours(24),
        }),
        now: now(),
    }
}

async fn balance(accounts: &Arc<dyn AccountRepository>, id: AccountId) -> i64 {
    accounts
        .find_by_id(id)
        .await
        .unwrap()
        .unwrap()
        .balance
        .minor_units()
}

/// Runs every transfer at once, each on its own task, and returns the outcomes in order.
async fn all_at_once(
    accounts: &Arc<dyn AccountRepository>,
    commands: impl IntoIterator<Item = TransferCommand>,
) -> Vec<Result<TransferOutcome, TransferError>> {
    let tasks: Vec<_> = commands
        .into_iter()
        .map(|command| {
            let accounts = accounts.clone();
            tokio::spawn(async move { accounts.transfer(command).await })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.expect("the transfer task does not panic"));
    }
    outcomes
}

/// Counts the transfers that went through and those refused for insufficient funds; any
/// other outcome fails the test.
fn done_and_refused(outcomes: &[Result<TransferOutcome, TransferError>]) -> (usize, usize) {
    let (mut done, mut refused) = (0, 0);
    for outcome in outcomes {
        match outcome {
            Ok(_) => done += 1,
            Err(TransferError::Rule(TransferRuleError::InsufficientFunds)) => refused += 1,
            Err(other) => panic!("unexpected outcome: {other:?}"),
        }
    }
    (done, refused)
}

async fn a_new_account_has_a_zero_balance_and_is_listed_for_its_owner(
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let (ann, bob) = (user(store).await, user(store).await);
    let id = account(accounts, ann, "EUR", 0).await;
    account(accounts, bob, "USD", 0).await;

    let found = accounts.find_by_id(id).await.unwrap().unwrap();
    let anns = accounts
        .list(Some(ann), PageRequest::default())
        .await
        .unwrap();
    let all = accounts.list(None, PageRequest::default()).await.unwrap();

    assert_eq!(
        (
            found.balance.minor_units(),
            found.currency.as_str(),
            found.owner_id,
        ),
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
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
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

    assert_eq!(after.balance.minor_units(), 150);
    assert!(matches!(missing, Err(DepositError::AccountNotFound)));
}

async fn a_transfer_moves_money_and_names_the_recipient(
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let (ann, bob) = (user(store).await, user(store).await);
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
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let (ann, bob) = (user(store).await, user(store).await);
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
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
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

async fn an_admin_moves_money_out_of_any_account(
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let (ann, bob, admin) = (user(store).await, user(store).await, user(store).await);
    let (from, to) = (
        account(accounts, ann, "USD", 100).await,
        account(accounts, bob, "USD", 0).await,
    );
    let mut command = transfer(admin, from, to, 25, None);
    command.actor.role = Role::Admin;

    let outcome = accounts.transfer(command).await.unwrap();

    assert_eq!(outcome.recipient_id, bob);
    assert_eq!(
        (balance(accounts, from).await, balance(accounts, to).await),
        (75, 25)
    );
}

/// A→B and B→A at once: the row locks are taken in id order, so no transfer deadlocks
/// (or fails after its retries), and the money is all still there.
async fn concurrent_transfers_in_opposite_directions_all_complete_and_conserve_money(
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
    let (a, b) = (
        account(accounts, ann, "USD", 1_000).await,
        account(accounts, ann, "USD", 1_000).await,
    );

    let amounts = 1..=40_i64;
    let directions = amounts
        .clone()
        .map(|amount| if amount % 2 == 1 { (a, b) } else { (b, a) });
    let outcomes = all_at_once(
        accounts,
        directions
            .zip(amounts)
            .map(|((from, to), amount)| transfer(ann, from, to, amount, None)),
    )
    .await;
    let mut moved = (0, 0);
    for outcome in outcomes {
        let transfer = outcome.expect("every transfer completes").transfer;
        if transfer.from_account_id == a {
            moved.0 += transfer.amount.minor_units();
        } else {
            moved.1 += transfer.amount.minor_units();
        }
    }

    let (after_a, after_b) = (balance(accounts, a).await, balance(accounts, b).await);
    assert_eq!(after_a + after_b, 2_000);
    assert_eq!(after_a, 1_000 - moved.0 + moved.1);
    let history = accounts
        .transfers_of(a, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(history.total, 40);
}

/// Twenty debits of 1 race for a balance of 10: exactly ten go through, the others are
/// refused as insufficient funds, and the balance ends at zero, never below.
async fn concurrent_debits_never_overdraw(accounts: &Arc<dyn AccountRepository>, store: &Storage) {
    let (ann, bob) = (user(store).await, user(store).await);
    let (from, to) = (
        account(accounts, ann, "USD", 10).await,
        account(accounts, bob, "USD", 0).await,
    );

    let outcomes = all_at_once(accounts, (0..20).map(|_| transfer(ann, from, to, 1, None))).await;
    let (done, refused) = done_and_refused(&outcomes);

    assert_eq!((done, refused), (10, 10));
    assert_eq!(
        (balance(accounts, from).await, balance(accounts, to).await),
        (0, 10)
    );
}

/// One account receives and spends at the same time: each spend is judged on the balance
/// as locked, so it either goes through or is refused as insufficient funds, never fails
/// otherwise, and no money appears or disappears.
async fn money_received_and_spent_at_once_is_never_an_error(
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
    let rich = account(accounts, ann, "USD", 1_000).await;
    let middle = account(accounts, ann, "USD", 10).await;
    let sink = account(accounts, ann, "USD", 0).await;

    let outcomes = all_at_once(
        accounts,
        (0..30).map(|index| {
            let (from, to) = if index % 2 == 0 {
                (rich, middle)
            } else {
                (middle, sink)
            };
            transfer(ann, from, to, 10, None)
        }),
    )
    .await;
    done_and_refused(&outcomes);

    let balances = [
        balance(accounts, rich).await,
        balance(accounts, middle).await,
        balance(accounts, sink).await,
    ];
    assert_eq!(balances.iter().sum::<i64>(), 1_010);
    assert!(balances.iter().all(|balance| *balance >= 0));
}

async fn an_idempotency_key_replays_the_same_request_and_refuses_another(
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
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
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
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
    accounts: &Arc<dyn AccountRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
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
