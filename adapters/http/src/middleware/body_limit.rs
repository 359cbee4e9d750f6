//! The request body limit (10 KiB by default), answered with a JSON 413, and the body read
//! deadline, answered with a JSON 408.
//!
//! Posts are the one exception: their bodies may be as large as the longest post the domain
//! accepts ([`POST_BODY_LIMIT_BYTES`]), so that the documented 100 000 characters of content
//! can be sent at all. Memory stays bounded: a body is buffered only as it arrives (the
//! buffer starts at [`INITIAL_CAPACITY`] whatever `Content-Length` claims), under the read
//! deadline, on one of at most `HTTP_MAX_CONNECTIONS` connections.
//!
//! The limit is enforced on the bytes read, whatever the protocol says about them: a
//! declared `Content-Length` over the limit is refused before anything is read, and any
//! other body that may exist (chunked HTTP/1.1, or HTTP/2, where a request need not
//! declare its length) is read up to one byte past the limit and refused there. Nothing
//! past `max_bytes + 1` bytes is ever buffered. The body is read here, under the deadline,
//! so a client that trickles its body holds nothing but its own connection; the handler
//! then reads it from memory.
//!
//! (poem's `SizeLimit` answers 411 to any request without `Content-Length`, GET included.)

use std::time::Duration;

use poem::http::{Version, header};
use poem::{Body, Endpoint, Middleware, Request};
use tokio::io::AsyncReadExt as _;

use domain::{PostContent, PostTitle};

use crate::errors::{PayloadTooLargeError, RequestTimeoutError};

/// The largest body `POST`/`PUT` under `/api/v1/posts` may send: the longest title and
/// content in UTF-8 (at most 4 bytes a character), and 1 KiB for the rest of the JSON.
pub(crate) const POST_BODY_LIMIT_BYTES: usize =
    (PostTitle::MAX_CHARS + PostContent::MAX_CHARS) * 4 + 1024;

/// Where the posts' larger limit applies.
pub(crate) const POSTS_PATH: &str = "/api/v1/posts";

/// A body buffer's first allocation: a client's claimed length allocates nothing up front.
const INITIAL_CAPACITY: usize = 16 * 1024;

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit {
    /// Every route but the posts'.
    pub(crate) max_bytes: usize,
    pub(crate) read_timeout: Duration,
}

impl BodyLimit {
    /// The limit on `path`'s bodies.
    pub(crate) fn max_bytes_for(&self, path: &str) -> usize {
        let posts = path
            .strip_prefix(POSTS_PATH)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if posts {
            self.max_bytes.max(POST_BODY_LIMIT_BYTES)
        } else {
            self.max_bytes
        }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            limit: *self,
        }
    }
}

pub(crate) struct BodyLimitEndpoint<E> {
    inner: E,
    limit: BodyLimit,
}

/// What the request's head says about its body.
enum DeclaredBody {
    /// No body: an HTTP/1.x request with neither `Content-Length` nor `Transfer-Encoding`,
    /// or a declared length of zero.
    None,
    Length(u64),
    /// A body of unknown length: chunked, or HTTP/2 without `Content-Length`.
    Unknown,
}

fn declared_body(request: &Request) -> DeclaredBody {
    let headers = request.headers();
    if let Some(length) = headers.get(header::CONTENT_LENGTH) {
        // hyper has already refused a malformed Content-Length.
        return match length
            .to_str()
            .ok()
            .and_then(|value| value.parse::<u64>().ok())
        {
            Some(0) => DeclaredBody::None,
            Some(length) => DeclaredBody::Length(length),
            None => DeclaredBody::Unknown,
        };
    }
    let framed_by_protocol = request.version() >= Version::HTTP_2;
    if framed_by_protocol || headers.contains_key(header::TRANSFER_ENCODING) {
        DeclaredBody::Unknown
    } else {
        DeclaredBody::None
    }
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut request: Request) -> poem::Result<Self::Output> {
        let max_bytes = self.limit.max_bytes_for(request.original_uri().path());
        let capacity = match declared_body(&request) {
            DeclaredBody::None => return self.inner.call(request).await,
            DeclaredBody::Length(length) if length > max_bytes as u64 => {
                return Err(PayloadTooLargeError.into());
            }
            DeclaredBody::Length(length) => usize::try_from(length)
                .map_or(INITIAL_CAPACITY, |length| length.min(INITIAL_CAPACITY)),
            DeclaredBody::Unknown => 0,
        };
        let mut bytes = Vec::with_capacity(capacity);
        let mut reader = request.take_body().into_async_read().take(
            u64::try_from(max_bytes)
                .unwrap_or(u64::MAX)
                .saturating_add(1),
        );
        let read = reader.read_to_end(&mut bytes);
        match tokio::time::timeout(self.limit.read_timeout, read).await {
            Err(_elapsed) => return Err(RequestTimeoutError.into()),
            Ok(Err(error)) => return Err(poem::error::BadRequest(error)),
            Ok(Ok(_)) => {}
        }
        if bytes.len() > max_bytes {
            return Err(PayloadTooLargeError.into());
        }
        request.set_body(Body::from(bytes));
        self.inner.call(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: BodyLimit = BodyLimit {
        max_bytes: 10 * 1024,
        read_timeout: Duration::from_secs(30),
    };

    #[test]
    fn posts_may_send_the_longest_post_and_nothing_else_may() {
        assert_eq!(LIMIT.max_bytes_for("/api/v1/posts"), POST_BODY_LIMIT_BYTES);
        assert_eq!(
            LIMIT.max_bytes_for("/api/v1/posts/0195d3a4-0000-7000-8000-000000000000"),
            POST_BODY_LIMIT_BYTES
        );
        assert_eq!(LIMIT.max_bytes_for("/api/v1/postsx"), 10 * 1024);
        assert_eq!(LIMIT.max_bytes_for("/api/v1/users"), 10 * 1024);
        assert_eq!(LIMIT.max_bytes_for("/api/v1/auth/login"), 10 * 1024);
    }

    #[test]
    fn the_posts_limit_holds_the_longest_post_in_four_byte_characters() {
        let body = serde_json::json!({
            "title": "𝄞".repeat(PostTitle::MAX_CHARS),
            "content": "𝄞".repeat(PostContent::MAX_CHARS),
            "published": false,
        })
        .to_string();
        assert!(body.len() <= POST_BODY_LIMIT_BYTES, "{} bytes", body.len());
    }
}
