//! The per-socket limit on client events: a token bucket.
//!
//! A bucket (rather than the fixed window of the REST limits) lets a person type a quick
//! burst and then holds them to a steady rate, with no window edge at which twice the limit
//! gets through. It is per socket, in memory, and dies with the socket: it protects the
//! rooms from one flooding connection, not the server from many (that is what the
//! connection-level limits in front of a deployment are for).

use std::time::Instant;

/// How many client events a socket may send: `burst` at once, then `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRateLimit {
    pub burst: u32,
    pub per_second: u32,
}

impl Default for MessageRateLimit {
    /// 10 at once, then 5 a second: faster than anyone types, slower than a script.
    fn default() -> Self {
        Self {
            burst: 10,
            per_second: 5,
        }
    }
}

/// Tokens left for one socket. Time is passed in, so tests need no clock.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    limit: MessageRateLimit,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(limit: MessageRateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            refilled_at: now,
        }
    }

    /// Takes one token if there is one; `false` means the event is over the limit.
    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(self.limit.per_second))
            .min(f64::from(self.limit.burst));
        self.refilled_at = self.refilled_at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const LIMIT: MessageRateLimit = MessageRateLimit {
        burst: 3,
        per_second: 2,
    };

    #[test]
    fn a_burst_passes_and_the_next_event_is_refused() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(LIMIT, start);

        assert!((0..3).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start));
    }

    #[test]
    fn tokens_come_back_at_the_steady_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(LIMIT, start);
        (0..3).for_each(|_| assert!(bucket.try_take(start)));

        assert!(!bucket.try_take(start + Duration::from_millis(400)));
        assert!(bucket.try_take(start + Duration::from_millis(500)));
        assert!(!bucket.try_take(start + Duration::from_millis(500)));
    }

    #[test]
    fn an_idle_socket_saves_up_no_more_than_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(LIMIT, start);
        let later = start + Duration::from_mins(1);

        assert!((0..3).all(|_| bucket.try_take(later)));
        assert!(!bucket.try_take(later));
    }

    #[test]
    fn a_clock_going_backwards_adds_no_tokens() {
        let start = Instant::now() + Duration::from_secs(1);
        let mut bucket = TokenBucket::new(LIMIT, start);
        (0..3).for_each(|_| assert!(bucket.try_take(start)));

        assert!(!bucket.try_take(start.checked_sub(Duration::from_secs(1)).unwrap()));
        assert!(!bucket.try_take(start));
    }
}
