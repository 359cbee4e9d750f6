//! Money can neither be lost nor invented: 32 concurrent clients transfer random amounts
//! between 10 accounts for a few seconds, through the HTTP API, then every invariant is
//! checked against what the server acknowledged.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api_tests::{TestApp, api_test};
use domain::Role;
use reqwest::Method;
use serde_json::json;

const CLIENTS: u64 = 32;
const ACCOUNTS: usize = 10;
const INITIAL_BALANCE: i64 = 10_000;
const RUN_FOR: Duration = Duration::from_secs(3);

/// An acknowledged (201) transfer.
#[derive(Debug, Clone)]
struct Acknowledged {
    id: String,
    from: usize,
    to: usize,
    amount: i64,
}

/// A small deterministic generator per client (no shared state, no extra crate).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

async fn run_clients(
    app: Arc<TestApp>,
    token: String,
    accounts: Arc<Vec<String>>,
) -> (Vec<Acknowledged>, HashMap<u16, u64>) {
    let clients = (0..CLIENTS).map(|client| {
        let (app, token, accounts) = (app.clone(), token.clone(), accounts.clone());
        tokio::spawn(async move {
            let mut random =
                XorShift(0x9E37_79B9_7F4A_7C15 ^ (client + 1).wrapping_mul(0x1000_0000_01B3));
            let (mut acknowledged, mut statuses) = (Vec::new(), HashMap::<u16, u64>::new());
            let deadline = Instant::now() + RUN_FOR;
            while Instant::now() < deadline {
                let from = usize::try_from(random.next(ACCOUNTS as u64)).unwrap();
                let to = (from + 1 + usize::try_from(random.next(ACCOUNTS as u64 - 1)).unwrap())
                    % ACCOUNTS;
                let amount = i64::try_from(1 + random.next(3_000)).unwrap();
                let response = app
                    .transfer(&token, &accounts[from], &accounts[to], &json!(amount), None)
                    .await;
                *statuses.entry(response.status.as_u16()).or_default() += 1;
                if response.status.as_u16() == 201 {
                    let id = response.json()["id"].as_str().unwrap().to_owned();
                    acknowledged.push(Acknowledged {
                        id,
                        from,
                        to,
                        amount,
                    });
                }
            }
            (acknowledged, statuses)
        })
    });
    let mut all = (Vec::new(), HashMap::new());
    for client in clients.collect::<Vec<_>>() {
        let (acknowledged, statuses) = client.await.expect("a client finished");
        all.0.extend(acknowledged);
        for (status, count) in statuses {
            *all.1.entry(status).or_default() += count;
        }
    }
    all
}

api_test! {
    async fn concurrent_random_transfers_conserve_money_and_leave_an_exact_ledger(app) {
        let admin = app.create_user(Role::Admin).await;
        let mut accounts = Vec::new();
        for _ in 0..ACCOUNTS {
            accounts.push(app.funded_account(&admin.token, &admin.token, "USD", INITIAL_BALANCE).await);
        }
        let app = Arc::new(app);
        let accounts = Arc::new(accounts);

        let (acknowledged, statuses) = run_clients(app.clone(), admin.token.clone(), accounts.clone()).await;

        // Only successes and refusals for lack of funds; never a 5xx, never anything else.
        assert!(statuses.keys().all(|status| matches!(status, 201 | 422)), "statuses: {statuses:?}");
        assert!(acknowledged.len() > 100, "too few transfers to prove anything: {statuses:?}");
        let mut expected = [INITIAL_BALANCE; ACCOUNTS];
        for transfer in &acknowledged {
            expected[transfer.from] -= transfer.amount;
            expected[transfer.to] += transfer.amount;
        }
        let mut total = 0;
        for (index, id) in accounts.iter().enumerate() {
            let account = app.send(Method::GET, &format!("/api/v1/accounts/{id}"), Some(&admin.token), None).await.expect(200);
            let balance = account["balance"].as_i64().unwrap();
            assert!(balance >= 0, "negative balance on account {index}");
            assert_eq!(balance, expected[index], "account {index}: deposits + credits - debits");
            total += balance;
        }
        assert_eq!(total, INITIAL_BALANCE * i64::try_from(ACCOUNTS).unwrap(), "money was created or destroyed");

        // Every acknowledged transfer is in the history of both its accounts, exactly once,
        // and the histories hold nothing else.
        for (index, id) in accounts.iter().enumerate() {
            let mut listed: HashMap<String, u32> = HashMap::new();
            let mut page = 1;
            loop {
                let body = app
                    .send(Method::GET, &format!("/api/v1/accounts/{id}/transfers?limit=100&page={page}"), Some(&admin.token), None)
                    .await
                    .expect(200);
                let data = body["data"].as_array().unwrap();
                for transfer in data {
                    *listed.entry(transfer["id"].as_str().unwrap().to_owned()).or_default() += 1;
                }
                if data.len() < 100 {
                    break;
                }
                page += 1;
            }
            let involved: Vec<&Acknowledged> =
                acknowledged.iter().filter(|transfer| transfer.from == index || transfer.to == index).collect();
            assert_eq!(listed.len(), involved.len(), "history of account {index}");
            assert!(involved.iter().all(|transfer| listed.get(&transfer.id) == Some(&1)), "history of account {index}");
        }
    }
}
