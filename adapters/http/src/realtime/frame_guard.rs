//! A size limit on the websocket messages clients send, enforced on the raw bytes the
//! bridge copies.
//!
//! engineioxide applies its payload limit to polling bodies only; its websocket reader
//! accepts tungstenite's defaults (64 MiB messages), which would let any client, before it
//! even authenticates, make the server buffer that much per connection. The guard reads
//! frame headers (RFC 6455 §5.2) and counts payload lengths without buffering or unmasking
//! anything; when a data message (one frame, or a frame and its continuations) exceeds the
//! limit, the bridge closes the connection.

/// A client sent a message larger than the limit, or a malformed control frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("websocket message of at least {0} bytes exceeds the limit")]
pub(super) struct MessageTooLarge(pub(super) u64);

/// The longest frame header: 2 bytes, an 8-byte extended length, a 4-byte mask.
const MAX_HEADER_BYTES: usize = 14;
/// Control frames (close, ping, pong) carry at most this much (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: u64 = 125;

#[derive(Debug)]
enum State {
    /// Collecting a frame header; `filled` bytes of `header` are known.
    Header {
        header: [u8; MAX_HEADER_BYTES],
        filled: usize,
    },
    /// Passing over this many payload bytes.
    Payload { remaining: u64 },
}

impl State {
    const fn new_header() -> Self {
        Self::Header {
            header: [0; MAX_HEADER_BYTES],
            filled: 0,
        }
    }
}

/// Watches one direction (client to server) of one websocket connection.
#[derive(Debug)]
pub(super) struct FrameGuard {
    limit: u64,
    state: State,
    /// Payload bytes of the data message being received (across continuation frames).
    message_bytes: u64,
}

impl FrameGuard {
    pub(super) fn new(limit: u64) -> Self {
        Self {
            limit,
            state: State::new_header(),
            message_bytes: 0,
        }
    }

    /// Accounts for the next bytes of the stream, in whatever chunks they arrive.
    pub(super) fn inspect(&mut self, mut bytes: &[u8]) -> Result<(), MessageTooLarge> {
        while let Some((&first, rest)) = bytes.split_first() {
            match &mut self.state {
                State::Payload { remaining } => {
                    let available = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                    let skipped = (*remaining).min(available);
                    *remaining -= skipped;
                    bytes = &bytes[usize::try_from(skipped).unwrap_or(bytes.len())..];
                    if *remaining == 0 {
                        self.state = State::new_header();
                    }
                }
                State::Header { header, filled } => {
                    header[*filled] = first;
                    *filled += 1;
                    bytes = rest;
                    if let Some((opcode, fin, length)) = parse_header(&header[..*filled]) {
                        self.frame(opcode, fin, length)?;
                        self.state = if length == 0 {
                            State::new_header()
                        } else {
                            State::Payload { remaining: length }
                        };
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks one complete frame header against the limit.
    fn frame(&mut self, opcode: u8, fin: bool, length: u64) -> Result<(), MessageTooLarge> {
        let is_control = opcode & 0x8 != 0;
        if is_control {
            return if length <= MAX_CONTROL_PAYLOAD {
                Ok(())
            } else {
                Err(MessageTooLarge(length))
            };
        }
        // Opcode 0 continues the current message; text (1) and binary (2) start one.
        self.message_bytes = if opcode == 0 {
            self.message_bytes.saturating_add(length)
        } else {
            length
        };
        if self.message_bytes > self.limit {
            return Err(MessageTooLarge(self.message_bytes));
        }
        if fin {
            self.message_bytes = 0;
        }
        Ok(())
    }
}

/// `(opcode, fin, payload length)` once `header` holds a whole frame header, else `None`.
fn parse_header(header: &[u8]) -> Option<(u8, bool, u64)> {
    let [first, second, extended @ ..] = header else {
        return None;
    };
    let fin = first & 0x80 != 0;
    let opcode = first & 0x0f;
    let masked = second & 0x80 != 0;
    let (length_bytes, short_length) = match second & 0x7f {
        126 => (2, None),
        127 => (8, None),
        length => (0, Some(u64::from(length))),
    };
    let mask_bytes = if masked { 4 } else { 0 };
    if extended.len() < length_bytes + mask_bytes {
        return None;
    }
    let length = short_length.unwrap_or_else(|| {
        extended[..length_bytes]
            .iter()
            .fold(0_u64, |length, &byte| (length << 8) | u64::from(byte))
    });
    Some((opcode, fin, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame with `length` payload bytes (all zero).
    fn frame(opcode: u8, fin: bool, length: usize) -> Vec<u8> {
        let mut bytes = vec![if fin { 0x80 } else { 0 } | opcode];
        match length {
            0..=125 => bytes.push(0x80 | u8::try_from(length).unwrap()),
            126..=65_535 => {
                bytes.push(0xfe); // masked, 16-bit length
                bytes.extend(u16::try_from(length).unwrap().to_be_bytes());
            }
            _ => {
                bytes.push(0xff); // masked, 64-bit length
                bytes.extend(u64::try_from(length).unwrap().to_be_bytes());
            }
        }
        bytes.extend([1, 2, 3, 4]);
        bytes.extend(std::iter::repeat_n(0, length));
        bytes
    }

    #[test]
    fn messages_up_to_the_limit_pass_in_any_chunking() {
        let stream: Vec<u8> = [
            frame(1, true, 10),
            frame(9, true, 4),
            frame(2, true, 70_000),
        ]
        .concat();
        for chunk in [1, 3, 7, 4096, stream.len()] {
            let mut guard = FrameGuard::new(70_000);
            for piece in stream.chunks(chunk) {
                assert_eq!(guard.inspect(piece), Ok(()), "chunks of {chunk}");
            }
        }
    }

    #[test]
    fn a_message_over_the_limit_is_refused_from_its_header() {
        let mut guard = FrameGuard::new(1000);

        assert_eq!(
            guard.inspect(&frame(1, true, 1001)[..8]),
            Err(MessageTooLarge(1001))
        );
    }

    #[test]
    fn a_64_bit_length_is_read_whole() {
        let mut guard = FrameGuard::new(1 << 20);
        let header = [0x81, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4];

        assert_eq!(guard.inspect(&header), Err(MessageTooLarge(1 << 32)));
    }

    #[test]
    fn continuation_frames_count_towards_one_message() {
        let mut guard = FrameGuard::new(100);
        guard.inspect(&frame(1, false, 60)).unwrap();
        guard.inspect(&frame(10, true, 0)).unwrap();

        assert_eq!(
            guard.inspect(&frame(0, true, 60)),
            Err(MessageTooLarge(120))
        );
    }

    #[test]
    fn a_finished_message_does_not_count_towards_the_next() {
        let mut guard = FrameGuard::new(100);
        guard.inspect(&frame(1, false, 60)).unwrap();
        guard.inspect(&frame(0, true, 40)).unwrap();

        assert_eq!(guard.inspect(&frame(1, true, 100)), Ok(()));
    }

    #[test]
    fn an_oversized_control_frame_is_refused() {
        let mut guard = FrameGuard::new(1000);

        assert_eq!(
            guard.inspect(&frame(9, true, 126)),
            Err(MessageTooLarge(126))
        );
    }
}
