//! Use-case tests of accounts with mocked ports.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use domain::ports::{
    DomainEvent, MockAccountRepository, MockClock, MockEventPublisher, TransferError,
    TransferOutcome,
};
use domain::{
    AccountId, Actor, Amount, Currency, IdempotencyKey, RequestFingerprint, Role, Transfer,
    TransferId, TransferRuleError, UserId,
};

use super::*;

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(|| Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap());
    Arc::new(clock)
}

fn user() -> Actor {
    Actor {
        user_id: UserId::generate(),
        role: Role::User,
    }
}

fn service(accounts: MockAccountRepository, events: MockEventPublisher) -> AccountService {
    AccountService::new(Arc::new(accounts), Arc::new(events), clock())
}

fn outcome(replayed: bool) -> TransferOutcome {
    TransferOutcome {
        transfer: Transfer {
            id: TransferId::generate(),
            from_account_id: AccountId::generate(),
            to_account_id: AccountId::generate(),
            amount: Amount::new(5).unwrap(),
            currency: Currency::USD,
            created_at: Utc::now(),
        },
        recipient_id: UserId::generate(),
        replayed,
    }
}

#[tokio::test]
async fn a_transfer_announces_the_money_to_its_recipient_but_a_replay_does_not() {
    let mut accounts = MockAccountRepository::new();
    accounts
        .expect_transfer()
        .times(1)
        .returning(|_| Ok(outcome(false)));
    accounts
        .expect_transfer()
        .times(1)
        .returning(|_| Ok(outcome(true)));
    let mut events = MockEventPublisher::new();
    events
        .expect_publish()
        .withf(|event| matches!(event, DomainEvent::TransferReceived { .. }))
        .times(1)
        .returning(|_| ());
    let service = service(accounts, events);
    let amount = Amount::new(5).unwrap();

    let first = service
        .transfer(
            user(),
            AccountId::generate(),
            AccountId::generate(),
            amount,
            Some(key("k")),
        )
        .await
        .unwrap();
    let replay = service
        .transfer(
            user(),
            AccountId::generate(),
            AccountId::generate(),
            amount,
            Some(key("k")),
        )
        .await
        .unwrap();

    assert!(!first.replayed && replay.replayed);
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text.as_bytes()).unwrap()
}

#[tokio::test]
async fn the_idempotency_fingerprint_covers_accounts_and_amount() {
    let (from, to) = (AccountId::generate(), AccountId::generate());
    let mut accounts = MockAccountRepository::new();
    accounts
        .expect_transfer()
        .withf(move |command| {
            command.idempotency.as_ref().is_some_and(|key| {
                key.key.as_str() == "k"
                    && key.fingerprint
                        == RequestFingerprint::Transfer {
                            from,
                            to,
                            amount: Amount::new(5).unwrap(),
                        }
            })
        })
        .returning(|_| Ok(outcome(false)));
    let mut events = MockEventPublisher::new();
    events.expect_publish().returning(|_| ());

    service(accounts, events)
        .transfer(user(), from, to, Amount::new(5).unwrap(), Some(key("k")))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_source_account_of_someone_else_is_forbidden_and_rules_pass_through() {
    let mut accounts = MockAccountRepository::new();
    accounts
        .expect_transfer()
        .times(1)
        .returning(|_| Err(TransferError::Rule(TransferRuleError::NotOwner)));
    accounts
        .expect_transfer()
        .times(1)
        .returning(|_| Err(TransferError::Rule(TransferRuleError::InsufficientFunds)));
    let service = service(accounts, MockEventPublisher::new());
    let amount = Amount::new(5).unwrap();

    let not_owner = service
        .transfer(
            user(),
            AccountId::generate(),
            AccountId::generate(),
            amount,
            None,
        )
        .await;
    let broke = service
        .transfer(
            user(),
            AccountId::generate(),
            AccountId::generate(),
            amount,
            None,
        )
        .await;

    assert!(matches!(not_owner, Err(MakeTransferError::Forbidden)));
    assert!(matches!(broke, Err(MakeTransferError::InsufficientFunds)));
}

#[tokio::test]
async fn only_admins_deposit_and_nothing_is_written_otherwise() {
    let result = service(MockAccountRepository::new(), MockEventPublisher::new())
        .deposit(user(), AccountId::generate(), Amount::new(1).unwrap(), None)
        .await;

    assert!(matches!(result, Err(DepositMoneyError::Forbidden)));
}

#[tokio::test]
async fn a_user_lists_only_their_own_accounts() {
    let ann = user();
    let owner = ann.user_id;
    let mut accounts = MockAccountRepository::new();
    accounts
        .expect_list()
        .withf(move |filter, _| *filter == Some(owner))
        .returning(|_, page| {
            Ok(domain::Page {
                items: vec![],
                request: page,
                total: 0,
            })
        });
    let service = service(accounts, MockEventPublisher::new());

    service
        .list(ann, None, domain::PageRequest::default())
        .await
        .unwrap();
    let others = service
        .list(
            ann,
            Some(UserId::generate()),
            domain::PageRequest::default(),
        )
        .await;

    assert!(matches!(others, Err(ListAccountsError::Forbidden)));
}
