//! How the claim loop waits while claiming fails (the database is unreachable, or
//! answering errors): from the poll interval, doubling up to `MAX_CLAIM_BACKOFF`, so that an
//! outage costs the database one claim per process every few seconds rather than one per
//! poll interval; reset by the first claim that works. One error in the log when claiming
//! starts to fail and one line when it works again, not one per attempt.

use std::time::Duration;

use domain::RetryPolicy;

/// The longest wait between two failing claims. A job wake-up (a notification, once the
/// database is back) ends the wait earlier.
pub(super) const MAX_CLAIM_BACKOFF: Duration = Duration::from_secs(5);

/// Failed claims in a row, and the wait before the next one (the jobs' own doubling rule,
/// from the poll interval).
#[derive(Debug)]
pub(super) struct ClaimBackoff {
    policy: RetryPolicy,
    failures: u32,
}

impl ClaimBackoff {
    pub(super) fn new(poll_interval: Duration) -> Self {
        Self {
            policy: RetryPolicy {
                base: poll_interval,
                max: MAX_CLAIM_BACKOFF.max(poll_interval),
            },
            failures: 0,
        }
    }

    /// A claim failed with `error`: how long to wait before the next one.
    pub(super) fn failed(&mut self, error: &impl std::fmt::Display) -> Duration {
        self.failures = self.failures.saturating_add(1);
        if self.failures == 1 {
            tracing::error!(%error, "could not claim jobs; retrying with backoff until it works");
        } else {
            tracing::debug!(%error, failures = self.failures, "still cannot claim jobs");
        }
        // The full wait, without jitter: one claim loop per process has no crowd to spread.
        self.policy.delay(self.failures, 1.0)
    }

    /// A claim worked.
    pub(super) fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::warn!(failed_claims = self.failures, "claiming jobs works again");
            self.failures = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_the_poll_interval_up_to_the_cap_and_resets_after_a_success() {
        let mut backoff = ClaimBackoff::new(Duration::from_millis(100));
        let waits: Vec<_> = (0..8).map(|_| backoff.failed(&"down")).collect();

        assert_eq!(
            waits,
            [100, 200, 400, 800, 1600, 3200, 5000, 5000].map(Duration::from_millis)
        );
        backoff.succeeded();
        assert_eq!(backoff.failed(&"down"), Duration::from_millis(100));
    }

    #[test]
    fn a_poll_interval_longer_than_the_cap_is_kept() {
        let mut backoff = ClaimBackoff::new(Duration::from_secs(30));

        assert_eq!(backoff.failed(&"down"), Duration::from_secs(30));
        assert_eq!(backoff.failed(&"down"), Duration::from_secs(30));
    }
}
