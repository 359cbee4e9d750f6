//! The in-memory tables: what each row keeps, and the writes several ports share (jobs
//! stored with another change, verification tokens, ended sessions).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::ports::LeaseOwner;
use domain::{
    Account, AccountId, Email, IdempotencyKey, Job, JobId, JobKind, JobStatus, NewJob,
    NewVerificationToken, PasswordHash, Post, PostId, RequestFingerprint, SessionId,
    SessionVersion, Transfer, User, UserId,
};
use uuid::Uuid;

#[derive(Default)]
pub(super) struct Tables {
    pub(super) users: HashMap<UserId, UserRow>,
    pub(super) sessions: HashMap<SessionId, SessionRow>,
    /// By token hash (unique, as in the databases).
    pub(super) refresh_tokens: HashMap<String, RefreshTokenRow>,
    pub(super) reset_tokens: Vec<OneTimeTokenRow>,
    pub(super) verification_tokens: Vec<OneTimeTokenRow>,
    pub(super) posts: HashMap<PostId, Post>,
    pub(super) accounts: HashMap<AccountId, Account>,
    /// Deposits are kept for the ledger's sake, as the databases do; no port reads them.
    pub(super) deposits: Vec<(Uuid, AccountId, i64, DateTime<Utc>)>,
    pub(super) transfers: Vec<Transfer>,
    /// By user and key.
    pub(super) idempotency_keys: HashMap<(UserId, IdempotencyKey), IdempotencyRow>,
    pub(super) jobs: HashMap<JobId, JobRow>,
}

pub(super) struct UserRow {
    pub(super) user: User,
    pub(super) password_hash: PasswordHash,
    pub(super) session_version: SessionVersion,
}

pub(super) struct SessionRow {
    pub(super) user_id: UserId,
    pub(super) user_agent: Option<String>,
    pub(super) ip: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) last_used_at: DateTime<Utc>,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) revoked_at: Option<DateTime<Utc>>,
}

pub(super) struct RefreshTokenRow {
    pub(super) user_id: UserId,
    pub(super) family_id: SessionId,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) used_at: Option<DateTime<Utc>>,
    pub(super) revoked_at: Option<DateTime<Utc>>,
}

/// A password-reset or email-verification token (the latter with the address it was sent
/// to).
pub(super) struct OneTimeTokenRow {
    pub(super) user_id: UserId,
    pub(super) email: Option<Email>,
    pub(super) token_hash: String,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) used_at: Option<DateTime<Utc>>,
}

impl OneTimeTokenRow {
    /// Whether this token, presented with `hash` at `now`, may be spent.
    pub(super) fn is_usable(&self, hash: &str, now: DateTime<Utc>) -> bool {
        self.token_hash == hash && self.used_at.is_none() && self.expires_at > now
    }
}

pub(super) struct IdempotencyRow {
    pub(super) fingerprint: RequestFingerprint,
    pub(super) resource_id: Uuid,
    pub(super) expires_at: DateTime<Utc>,
}

pub(super) struct JobRow {
    pub(super) job: Job,
    pub(super) dedup_key: Option<String>,
    /// The lease of a running job.
    pub(super) lease: Option<(LeaseOwner, DateTime<Utc>)>,
}

impl JobRow {
    /// Queued, running or failed: what a dedup key is unique among.
    pub(super) fn is_pending(&self) -> bool {
        matches!(
            self.job.status,
            JobStatus::Queued | JobStatus::Running | JobStatus::Failed
        )
    }

    /// Running under a lease `owner` holds.
    pub(super) fn is_held_by(&self, owner: LeaseOwner) -> bool {
        self.job.status == JobStatus::Running
            && self.lease.is_some_and(|(holder, _)| holder == owner)
    }
}

impl Tables {
    /// Stores `jobs` as queued, skipping any whose dedup key a pending job of its queue
    /// holds; returns the kinds stored.
    pub(super) fn insert_jobs(&mut self, jobs: Vec<NewJob>) -> Vec<JobKind> {
        let mut stored = Vec::new();
        for job in jobs {
            let duplicate = job.dedup_key.is_some()
                && self.jobs.values().any(|row| {
                    row.is_pending() && row.job.queue == job.queue && row.dedup_key == job.dedup_key
                });
            if duplicate || self.jobs.contains_key(&job.id) {
                continue;
            }
            stored.push(job.kind.clone());
            self.jobs.insert(
                job.id,
                JobRow {
                    job: Job {
                        id: job.id,
                        queue: job.queue,
                        kind: job.kind,
                        payload: job.payload,
                        status: JobStatus::Queued,
                        attempts: 0,
                        max_attempts: job.max_attempts.get(),
                        run_at: job.run_at,
                        last_error: None,
                        created_at: job.created_at,
                        updated_at: job.created_at,
                        trace: job.trace,
                    },
                    dedup_key: job.dedup_key,
                    lease: None,
                },
            );
        }
        stored
    }

    /// Stores a verification token, spending the user's earlier ones (a newer link
    /// supersedes the older).
    pub(super) fn store_verification_token(&mut self, token: NewVerificationToken) {
        for earlier in &mut self.verification_tokens {
            if earlier.user_id == token.user_id && earlier.used_at.is_none() {
                earlier.used_at = Some(token.created_at);
            }
        }
        self.verification_tokens.push(OneTimeTokenRow {
            user_id: token.user_id,
            email: Some(token.email),
            token_hash: token.token_hash.as_str().to_owned(),
            expires_at: token.expires_at,
            used_at: None,
        });
    }

    /// Ends the live sessions that `matches` accepts and their live refresh tokens, at
    /// `now`; returns how many sessions ended.
    pub(super) fn revoke_sessions(
        &mut self,
        matches: impl Fn(SessionId, &SessionRow) -> bool,
        now: DateTime<Utc>,
    ) -> usize {
        let mut revoked = Vec::new();
        for (id, session) in &mut self.sessions {
            if session.revoked_at.is_none() && matches(*id, session) {
                session.revoked_at = Some(now);
                revoked.push(*id);
            }
        }
        for token in self.refresh_tokens.values_mut() {
            if token.revoked_at.is_none() && revoked.contains(&token.family_id) {
                token.revoked_at = Some(now);
            }
        }
        revoked.len()
    }
}
