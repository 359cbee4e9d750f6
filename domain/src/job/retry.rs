//! The retry rule: exponential backoff with equal jitter, and what becomes of a job after a
//! failed attempt.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Job;

/// What becomes of a job after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Runs again at this instant.
    RetryAt(DateTime<Utc>),
    /// No attempt left (or the failure is permanent).
    Dead,
}

/// Exponential backoff with jitter: attempt `n` waits `base · 2^(n-1)`, capped at `max`, of
/// which a random half is dropped ("equal jitter") so that jobs failing together (an SMTP
/// server going down) do not retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (from 1); `jitter` in `[0, 1)` picks
    /// where in `[delay / 2, delay]` it lands.
    #[must_use]
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(32);
        let full = self
            .base
            .saturating_mul(1_u32 << exponent.min(31))
            .min(self.max);
        let half = full / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// What becomes of `job` after its current attempt failed at `now`.
    #[must_use]
    pub fn after_failure(
        &self,
        job: &Job,
        permanent: bool,
        jitter: f64,
        now: DateTime<Utc>,
    ) -> AfterFailure {
        if permanent || job.attempts >= job.max_attempts {
            return AfterFailure::Dead;
        }
        let delay = chrono::Duration::from_std(self.delay(job.attempts, jitter))
            .unwrap_or(chrono::Duration::MAX);
        AfterFailure::RetryAt(
            now.checked_add_signed(delay)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::id::JobId;
    use crate::job::{JobKind, JobPayload, JobStatus, QueueName};

    fn job(attempts: u32, max_attempts: u32) -> Job {
        let now = Utc::now();
        Job {
            id: JobId::generate(),
            queue: QueueName::parse("mail").unwrap(),
            kind: JobKind::parse("mail.welcome").unwrap(),
            payload: JobPayload::from_json("{}".to_owned()),
            status: JobStatus::Running,
            attempts,
            max_attempts,
            run_at: now,
            last_error: None,
            created_at: now,
            updated_at: now,
            trace: None,
        }
    }

    const POLICY: RetryPolicy = RetryPolicy {
        base: Duration::from_secs(1),
        max: Duration::from_mins(1),
    };

    #[test]
    fn backoff_doubles_per_attempt_up_to_the_cap() {
        assert_eq!(POLICY.delay(1, 1.0), Duration::from_secs(1));
        assert_eq!(POLICY.delay(2, 1.0), Duration::from_secs(2));
        assert_eq!(POLICY.delay(4, 1.0), Duration::from_secs(8));
        assert_eq!(POLICY.delay(7, 1.0), Duration::from_mins(1));
        assert_eq!(POLICY.delay(500, 1.0), Duration::from_mins(1));
        assert_eq!(
            POLICY.delay(4, 0.0),
            Duration::from_secs(4),
            "jitter drops at most half"
        );
    }

    #[test]
    fn a_failure_with_attempts_left_is_retried_later() {
        let now = Utc::now();
        assert_eq!(
            POLICY.after_failure(&job(3, 5), false, 1.0, now),
            AfterFailure::RetryAt(now + chrono::Duration::seconds(4))
        );
    }

    #[test]
    fn the_last_attempt_or_a_permanent_failure_ends_the_job() {
        let now = Utc::now();
        assert_eq!(
            POLICY.after_failure(&job(5, 5), false, 0.5, now),
            AfterFailure::Dead
        );
        assert_eq!(
            POLICY.after_failure(&job(1, 5), true, 0.5, now),
            AfterFailure::Dead
        );
    }

    proptest! {
        #[test]
        fn every_delay_lies_between_half_and_all_of_the_capped_exponential(
            attempt in 1_u32..200,
            jitter in 0.0_f64..1.0,
        ) {
            let delay = POLICY.delay(attempt, jitter);
            let full = POLICY.delay(attempt, 1.0);
            prop_assert!(delay <= full && delay >= full / 2);
            prop_assert!(full <= POLICY.max);
        }
    }
}
