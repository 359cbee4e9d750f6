//! Response compression (brotli or gzip) when the client accepts it and the body is worth
//! it: at least 1 KiB, of a textual type, not already encoded. Request bodies are never
//! decompressed here (that would let a small compressed body bypass the body limit).
//!
//! gzip of a body up to [`MAX_INLINE_GZIP_BYTES`] (every API response) is done in place,
//! at level 1 like nginx's default, with one deflate state per thread that is reset, not
//! rebuilt: a new state allocates and zeroes ~300 KiB, which with the compression itself
//! was a fifth of the CPU of `GET /users?search`. Larger bodies (the docs page) and brotli
//! stream through poem's encoder.

use std::cell::RefCell;

use bytes::Bytes;
use flate2::{Compression as Level, Crc, FlushCompress, Status};
use http_body_util::combinators::BoxBody;
use hyper::body::Body as _;
use poem::http::{HeaderValue, header};
use poem::web::{Compress, CompressionAlgo};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};

/// Below this, compression costs more than it saves (Express uses the same threshold).
const MIN_COMPRESSIBLE_BYTES: usize = 1024;

/// Bodies up to this size are gzipped in place (well under a millisecond at level 1).
const MAX_INLINE_GZIP_BYTES: usize = 64 * 1024;

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
        let response = self.inner.call(request).await?.into_response();
        let Some(algorithm) = algorithm else {
            return Ok(response);
        };
        match settle(response) {
            Settled::AsItIs(response) => Ok(response),
            // Boxed: the rare path's state (a body being collected) stays out of the
            // future every request builds and moves.
            Settled::Collect(response) => Box::pin(collect_and_compress(response, algorithm)).await,
        }
    }
}

/// What becomes of a response, decided without reading its body where possible.
enum Settled {
    /// Sent as it is: not textual, already encoded, or a body that knows it is small (one
    /// built from bytes knows its length).
    AsItIs(Response),
    /// Its body must be collected before it is known whether it is worth compressing.
    Collect(Response),
}

fn settle(mut response: Response) -> Settled {
    if response.headers().contains_key(header::CONTENT_ENCODING) || !is_textual(&response) {
        return Settled::AsItIs(response);
    }
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    let body: BoxBody<Bytes, std::io::Error> = response.take_body().into();
    let known_small = body
        .size_hint()
        .exact()
        .is_some_and(|length| length < MIN_COMPRESSIBLE_BYTES as u64);
    response.set_body(Body::from(body));
    if known_small {
        Settled::AsItIs(response)
    } else {
        Settled::Collect(response)
    }
}

async fn collect_and_compress(
    mut response: Response,
    algorithm: CompressionAlgo,
) -> poem::Result<Response> {
    let body = response.take_body().into_bytes().await?;
    if body.len() < MIN_COMPRESSIBLE_BYTES {
        response.set_body(Body::from(body));
        return Ok(response);
    }
    response.headers_mut().remove(header::CONTENT_LENGTH);
    if matches!(algorithm, CompressionAlgo::GZIP) && body.len() <= MAX_INLINE_GZIP_BYTES {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response.set_body(Body::from(gzip(&body)));
        return Ok(response);
    }
    response.set_body(Body::from(body));
    Ok(Compress::new(response, algorithm).into_response())
}

thread_local! {
    /// Raw deflate (the gzip framing is written by [`gzip`]), reset before each use.
    static DEFLATE: RefCell<flate2::Compress> = RefCell::new(flate2::Compress::new(Level::fast(), false));
}

/// `data` as a gzip member (RFC 1952): header, deflate stream, CRC-32 and length.
fn gzip(data: &[u8]) -> Vec<u8> {
    // ID1 ID2, CM = deflate, no flags, no modification time, XFL 0, OS unknown.
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut out = Vec::with_capacity(HEADER.len() + data.len() / 2 + 64);
    out.extend_from_slice(&HEADER);
    DEFLATE.with_borrow_mut(|deflate| {
        deflate.reset();
        loop {
            let consumed = usize::try_from(deflate.total_in()).unwrap_or(usize::MAX);
            if out.capacity() - out.len() < 64 {
                out.reserve(data.len() / 4 + 64);
            }
            let status = deflate
                .compress_vec(&data[consumed..], &mut out, FlushCompress::Finish)
                .expect("deflate of an in-memory buffer cannot fail");
            if status == Status::StreamEnd {
                break;
            }
        }
    });
    let mut crc = Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32 (bodies here are at most 64 KiB).
    out.extend_from_slice(&(u32::try_from(data.len()).unwrap_or(u32::MAX)).to_le_bytes());
    out
}

/// Brotli if accepted, else gzip if accepted (q=0 means refused).
fn preferred_algorithm(accept_encoding: &str) -> Option<CompressionAlgo> {
    // One pass; the parameters of codings other than these two are never looked at.
    let (mut brotli, mut gzip) = (false, false);
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let slot = if coding.eq_ignore_ascii_case("br") {
            &mut brotli
        } else if coding.eq_ignore_ascii_case("gzip") {
            &mut gzip
        } else {
            continue;
        };
        *slot |= !parts.any(|param| matches!(param.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
    }
    if brotli {
        Some(CompressionAlgo::BR)
    } else if gzip {
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
    use std::io::Read as _;

    use super::*;

    fn gunzip(compressed: &[u8]) -> Vec<u8> {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(compressed)
            .read_to_end(&mut plain)
            .expect("a valid gzip member");
        plain
    }

    #[test]
    fn gzip_round_trips_every_size_with_the_reused_compressor() {
        let text: Vec<u8> = (0..)
            .flat_map(|index| {
                format!(
                    "{{\"n\":{index},\"name\":\"user {}\"}},",
                    index * 7919 % 1000
                )
                .into_bytes()
            })
            .take(MAX_INLINE_GZIP_BYTES)
            .collect();
        for size in [0, 1, 1024, 5_000, 40_000, MAX_INLINE_GZIP_BYTES, 7] {
            let compressed = gzip(&text[..size]);
            assert_eq!(gunzip(&compressed), &text[..size], "size {size}");
        }
    }

    #[test]
    fn gzip_shrinks_json() {
        let json =
            "{\"id\":\"6f1c2a9e-0000-7000-8000-000000000000\",\"role\":\"user\"},".repeat(40);
        assert!(gzip(json.as_bytes()).len() < json.len() / 4);
    }

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
