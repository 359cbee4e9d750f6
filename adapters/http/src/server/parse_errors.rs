//! JSON bodies for the errors hyper answers by itself.
//!
//! When a request cannot be parsed (a malformed request line or header, a URI or a header
//! section over hyper's limits), hyper writes `400`, `414` or `431` with an empty body and
//! closes the connection; no endpoint runs, so no middleware can shape the answer. This
//! rewriter sits on the connection's write side and replaces exactly that response — a
//! bare head with `content-length: 0`, which no endpoint of this service produces for these
//! statuses — with the same status and the service's JSON error body.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;

/// The statuses hyper answers on its own, with the message our error body gives each.
const HYPER_ERRORS: [(&[u8], u16, &str); 3] = [
    (b"HTTP/1.1 400 ", 400, "Bad request"),
    (b"HTTP/1.1 414 ", 414, "URI too long"),
    (b"HTTP/1.1 431 ", 431, "Request header fields too large"),
];

/// See the module documentation.
#[derive(Debug, Default)]
pub(super) struct ParseErrorRewriter {
    /// The replacement being written, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

impl ParseErrorRewriter {
    pub(super) fn poll_write<W: AsyncWrite>(
        &mut self,
        mut inner: Pin<&mut W>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.replacement.is_none() {
            match replacement_for(buffer) {
                Some(bytes) => self.replacement = Some((bytes, 0)),
                None => return inner.poll_write(context, buffer),
            }
        }
        let (bytes, written) = self.replacement.as_mut().expect("set above");
        while *written < bytes.len() {
            let count = ready!(inner.as_mut().poll_write(context, &bytes[*written..]))?;
            if count == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += count;
        }
        self.replacement = None;
        // hyper's head is accounted as written: the replacement stands for it.
        Poll::Ready(Ok(buffer.len()))
    }

    /// Vectored writes pass through untouched unless their first buffer is one of hyper's
    /// error heads (hyper writes such a head alone, as the last thing on the connection).
    pub(super) fn poll_write_vectored<W: AsyncWrite>(
        &mut self,
        inner: Pin<&mut W>,
        context: &mut Context<'_>,
        buffers: &[std::io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = buffers
            .iter()
            .find(|buffer| !buffer.is_empty())
            .map_or(&[][..], |buffer| &**buffer);
        if self.replacement.is_some()
            || HYPER_ERRORS
                .iter()
                .any(|(prefix, _, _)| first.starts_with(prefix))
        {
            return self.poll_write(inner, context, first);
        }
        inner.poll_write_vectored(context, buffers)
    }
}

/// The JSON response that replaces `head`, when `head` is one of hyper's own error answers.
fn replacement_for(head: &[u8]) -> Option<Vec<u8>> {
    let (_, status, message) = HYPER_ERRORS
        .iter()
        .find(|(prefix, _, _)| head.starts_with(prefix))?;
    let is_bare_head = head.ends_with(b"\r\n\r\n")
        && head
            .windows(b"\r\ncontent-length: 0\r\n".len())
            .any(|window| window.eq_ignore_ascii_case(b"\r\ncontent-length: 0\r\n"));
    if !is_bare_head {
        return None;
    }
    let request_id = uuid::Uuid::now_v7().to_string();
    let body = serde_json::json!({ "error": message, "requestId": request_id }).to_string();
    tracing::info!(target: "request", status, request_id, "unparsable request refused");
    let reason = poem::http::StatusCode::from_u16(*status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Bad Request");
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bare_error_heads_become_json_responses() {
        for (head, status, message) in [
            (
                &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n"[..],
                400,
                "Bad request",
            ),
            (
                b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n",
                414,
                "URI too long",
            ),
            (
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
                431,
                "Request header fields too large",
            ),
        ] {
            let rewritten = String::from_utf8(replacement_for(head).expect("rewritten")).unwrap();
            assert!(
                rewritten.starts_with(&format!("HTTP/1.1 {status} ")),
                "{rewritten}"
            );
            let (headers, body) = rewritten.split_once("\r\n\r\n").unwrap();
            assert!(headers.contains("content-type: application/json"));
            assert!(headers.contains(&format!("content-length: {}", body.len())));
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(body["error"], message);
            assert!(headers.contains(&format!(
                "x-request-id: {}",
                body["requestId"].as_str().unwrap()
            )));
        }
    }

    #[test]
    fn responses_of_the_service_pass_untouched() {
        for head in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 52\r\n\r\n{}"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 10\r\n\r\n",
        ] {
            assert!(replacement_for(head).is_none(), "{}", String::from_utf8_lossy(head));
        }
    }
}
