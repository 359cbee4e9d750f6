//! The request body limit (10 KiB by default), answered with a JSON 413.
//!
//! poem's `SizeLimit` answers 411 to any request without `Content-Length`, GET included;
//! this one checks the declared length when there is one and otherwise counts the bytes of
//! a chunked body as it reads them.

use poem::http::header;
use poem::{Body, Endpoint, Middleware, Request};
use tokio::io::AsyncReadExt as _;

use crate::errors::PayloadTooLargeError;

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit {
    pub(crate) max_bytes: usize,
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

pub(crate) struct BodyLimitEndpoint<E> {
    inner: E,
    max_bytes: usize,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut request: Request) -> poem::Result<Self::Output> {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        match declared {
            Some(length) if length > self.max_bytes as u64 => {
                return Err(PayloadTooLargeError.into());
            }
            None if request.headers().contains_key(header::TRANSFER_ENCODING) => {
                let mut bytes = Vec::new();
                let limit = u64::try_from(self.max_bytes)
                    .unwrap_or(u64::MAX)
                    .saturating_add(1);
                request
                    .take_body()
                    .into_async_read()
                    .take(limit)
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(poem::error::BadRequest)?;
                if bytes.len() > self.max_bytes {
                    return Err(PayloadTooLargeError.into());
                }
                request.set_body(Body::from(bytes));
            }
            // A declared length within the limit, or no body at all.
            _ => {}
        }
        self.inner.call(request).await
    }
}
