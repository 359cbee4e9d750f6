//! Response compression (brotli or gzip) when the client accepts it and the body is worth
//! it: at least 1 KiB, of a textual type, not already encoded. Request bodies are never
//! decompressed here (that would let a small compressed body bypass the body limit).

use poem::http::{HeaderValue, header};
use poem::web::{Compress, CompressionAlgo};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};

/// Below this, compression costs more than it saves (Express uses the same threshold).
const MIN_COMPRESSIBLE_BYTES: usize = 1024;

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Compression;

impl<E: Endpoint> Middleware<E> for Compression {
    type Output = CompressionEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CompressionEndpoint { inner }
    }
}

pub(crate) struct CompressionEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for CompressionEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let algorithm = request
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|value| value.to_str().ok())
            .and_then(preferred_algorithm);
        let mut response = self.inner.call(request).await?.into_response();
        let Some(algorithm) = algorithm else {
            return Ok(response);
        };
        if response.headers().contains_key(header::CONTENT_ENCODING) || !is_textual(&response) {
            return Ok(response);
        }
        let body = response.take_body().into_bytes().await?;
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if body.len() < MIN_COMPRESSIBLE_BYTES {
            response.set_body(Body::from(body));
            return Ok(response);
        }
        response.headers_mut().remove(header::CONTENT_LENGTH);
        response.set_body(Body::from(body));
        Ok(Compress::new(response, algorithm).into_response())
    }
}

/// Brotli if accepted, else gzip if accepted (q=0 means refused).
fn preferred_algorithm(accept_encoding: &str) -> Option<CompressionAlgo> {
    let accepted = |name: &str| {
        accept_encoding.split(',').any(|item| {
            let mut parts = item.trim().split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused =
                parts.any(|param| matches!(param.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    if accepted("br") {
        Some(CompressionAlgo::BR)
    } else if accepted("gzip") {
        Some(CompressionAlgo::GZIP)
    } else {
        None
    }
}

fn is_textual(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| {
            content_type.starts_with("application/json")
                || content_type.starts_with("text/")
                || content_type.starts_with("application/javascript")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_is_preferred_then_gzip() {
        assert!(matches!(
            preferred_algorithm("gzip, deflate, br"),
            Some(CompressionAlgo::BR)
        ));
        assert!(matches!(
            preferred_algorithm("gzip"),
            Some(CompressionAlgo::GZIP)
        ));
        assert!(preferred_algorithm("identity").is_none());
    }

    #[test]
    fn an_encoding_with_zero_quality_is_refused() {
        assert!(matches!(
            preferred_algorithm("br;q=0, gzip"),
            Some(CompressionAlgo::GZIP)
        ));
        assert!(preferred_algorithm("gzip;q=0").is_none());
    }
}
