//! W3C Trace Context: the trace a request belongs to, from its `traceparent` header
//! (<https://www.w3.org/TR/trace-context/>), or a new one. Every request's span and log line
//! carry its trace id, so a request can be found from the trace a client or a proxy started.

use std::fmt;

use poem::http::HeaderMap;

const TRACEPARENT: &str = "traceparent";

/// A 16-byte trace id, written as 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceId([u8; 16]);

impl TraceId {
    /// The trace id of a valid `traceparent`, or a new random one.
    pub(crate) fn of_request(headers: &HeaderMap) -> Self {
        headers
            .get(TRACEPARENT)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_traceparent)
            .unwrap_or_else(Self::generate)
    }

    fn generate() -> Self {
        // 122 random bits from a thread-local generator (uuid's `fast-rng`), as W3C
        // recommends; never all zeros. Not v7: its clock sequence sits behind a process-wide
        // mutex, which every request already takes once for its request id.
        Self(uuid::Uuid::new_v4().into_bytes())
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0; 32];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        formatter.write_str(std::str::from_utf8(&text).expect("hex digits are ASCII"))
    }
}

/// `version-traceid-parentid-flags`: version `00` exactly; a later version's first four
/// fields are read the same way (the specification's forward compatibility); `ff` and any
/// malformed field make it invalid, as do an all-zero trace id or parent id.
fn parse_traceparent(value: &str) -> Option<TraceId> {
    let mut fields = value.trim().split('-');
    let version = fields.next()?;
    let trace_id = fields.next()?;
    let parent_id = fields.next()?;
    let flags = fields.next()?;
    let rest_allowed = version != "00";
    if version.len() != 2
        || !is_lower_hex(version)
        || version == "ff"
        || (!rest_allowed && fields.next().is_some())
        || trace_id.len() != 32
        || parent_id.len() != 16
        || flags.len() != 2
        || ![trace_id, parent_id, flags].into_iter().all(is_lower_hex)
        || trace_id.bytes().all(|digit| digit == b'0')
        || parent_id.bytes().all(|digit| digit == b'0')
    {
        return None;
    }
    let mut bytes = [0; 16];
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&trace_id[index * 2..index * 2 + 2], 16).ok()?;
    }
    Some(TraceId(bytes))
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|digit| digit.is_ascii_digit() || (b'a'..=b'f').contains(&digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_gives_its_trace_id() {
        let trace = parse_traceparent(VALID).unwrap();
        assert_eq!(trace.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next";
        assert_eq!(parse_traceparent(future), Some(trace));
    }

    #[test]
    fn a_malformed_traceparent_is_ignored() {
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
        ] {
            assert_eq!(parse_traceparent(value), None, "{value}");
        }
    }

    #[test]
    fn without_a_traceparent_each_request_gets_a_new_trace() {
        let headers = HeaderMap::new();
        let (first, second) = (TraceId::of_request(&headers), TraceId::of_request(&headers));
        assert_ne!(first, second);
        assert_eq!(first.to_string().len(), 32);
    }
}
