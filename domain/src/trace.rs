//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): the trace a piece of work
//! belongs to, as a `traceparent` carries it. Requests arrive with one or start one; jobs
//! keep the one of the request that enqueued them, so that an email can be followed back
//! to the registration that caused it.

use std::fmt;
use std::str::FromStr;

/// A trace id and the span that is the parent of the next one, with the sampled flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    sampled: bool,
}

/// A `traceparent` that the specification says to ignore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid W3C traceparent")]
pub struct InvalidTraceParent;

impl TraceParent {
    /// `None` when either id is all zeros (the specification's invalid ids).
    #[must_use]
    pub fn new(trace_id: [u8; 16], parent_id: [u8; 8], sampled: bool) -> Option<Self> {
        (trace_id != [0; 16] && parent_id != [0; 8]).then_some(Self {
            trace_id,
            parent_id,
            sampled,
        })
    }

    /// A new trace: 122 random bits of trace id (from a thread-local generator, as W3C
    /// recommends) and a random parent id.
    #[must_use]
    pub fn generate() -> Self {
        Self {
            trace_id: uuid::Uuid::new_v4().into_bytes(),
            parent_id: random_span_id(),
            sampled: true,
        }
    }

    /// The same trace and sampling, with a new random span as the parent: what a span that
    /// continues this one hands on.
    #[must_use]
    pub fn child(&self) -> Self {
        Self {
            parent_id: random_span_id(),
            ..*self
        }
    }

    #[must_use]
    pub const fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    #[must_use]
    pub const fn parent_id(&self) -> [u8; 8] {
        self.parent_id
    }

    #[must_use]
    pub const fn sampled(&self) -> bool {
        self.sampled
    }

    /// The trace id as 32 lower-case hex digits: the `trace_id` of log lines.
    #[must_use]
    pub fn trace_id_hex(&self) -> TraceIdHex {
        let mut text = [0; 32];
        write_hex(&self.trace_id, &mut text);
        TraceIdHex(text)
    }
}

/// A trace id as written in log lines; formats without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceIdHex([u8; 32]);

impl TraceIdHex {
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

impl fmt::Display for TraceIdHex {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// `00-{trace id}-{parent id}-{flags}`.
impl fmt::Display for TraceParent {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parent = [0; 16];
        write_hex(&self.parent_id, &mut parent);
        let parent = std::str::from_utf8(&parent).expect("hex digits are ASCII");
        let flags = if self.sampled { "01" } else { "00" };
        write!(formatter, "00-{}-{parent}-{flags}", self.trace_id_hex())
    }
}

/// `version-traceid-parentid-flags`: version `00` exactly; a later version's first four
/// fields are read the same way (the specification's forward compatibility); `ff` and any
/// malformed field make it invalid, as do an all-zero trace id or parent id.
impl FromStr for TraceParent {
    type Err = InvalidTraceParent;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut fields = value.trim().split('-');
        let mut field = || fields.next().ok_or(InvalidTraceParent);
        let (version, trace_id, parent_id, flags) = (field()?, field()?, field()?, field()?);
        let is_version_00 = version == "00";
        if version.len() != 2 || !is_lower_hex(version) || version == "ff" {
            return Err(InvalidTraceParent);
        }
        if is_version_00 && fields.next().is_some() {
            return Err(InvalidTraceParent);
        }
        let flags: [u8; 1] = parse_hex(flags)?;
        Self::new(
            parse_hex(trace_id)?,
            parse_hex(parent_id)?,
            flags[0] & 1 == 1,
        )
        .ok_or(InvalidTraceParent)
    }
}

/// 8 random bytes from the second half of a v4 UUID, whose variant bits make the first of
/// them non-zero: never the all-zero id.
fn random_span_id() -> [u8; 8] {
    let mut id = [0; 8];
    id.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[8..]);
    id
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|digit| digit.is_ascii_digit() || (b'a'..=b'f').contains(&digit))
}

/// Exactly `2 * N` lower-case hex digits.
fn parse_hex<const N: usize>(text: &str) -> Result<[u8; N], InvalidTraceParent> {
    if text.len() != 2 * N || !is_lower_hex(text) {
        return Err(InvalidTraceParent);
    }
    let mut bytes = [0; N];
    for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| InvalidTraceParent)?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| InvalidTraceParent)?;
    }
    Ok(bytes)
}

fn write_hex(bytes: &[u8], text: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in text.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_reads_and_writes_back_the_same() {
        let trace: TraceParent = VALID.parse().unwrap();
        assert_eq!(
            trace.trace_id_hex().as_str(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(
            trace.parent_id(),
            [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
        );
        assert!(trace.sampled());
        assert_eq!(trace.to_string(), VALID);
        let unsampled: TraceParent = VALID.replace("-01", "-00").parse().unwrap();
        assert!(!unsampled.sampled());
        assert_eq!(unsampled.to_string(), VALID.replace("-01", "-00"));
    }

    #[test]
    fn a_later_version_is_read_by_its_first_four_fields() {
        let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next";
        assert_eq!(future.parse(), VALID.parse::<TraceParent>());
    }

    #[test]
    fn a_malformed_traceparent_is_invalid() {
        for value in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(
                value.parse::<TraceParent>(),
                Err(InvalidTraceParent),
                "{value}"
            );
        }
    }

    #[test]
    fn generated_traces_are_valid_sampled_and_distinct() {
        let (first, second) = (TraceParent::generate(), TraceParent::generate());
        assert_ne!(first.trace_id(), second.trace_id());
        assert!(first.sampled());
        assert_eq!(first.to_string().parse(), Ok(first));
        let child = first.child();
        assert_eq!(child.trace_id(), first.trace_id());
        assert_ne!(child.parent_id(), first.parent_id());
    }
}
