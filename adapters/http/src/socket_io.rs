//! Where the HTTP adapter mounts the socket.io gateway (`adapter-realtime`): the poem
//! endpoint in front of its [`SocketIoHttp`], and the REST bodies its events carry.
//!
//! Long-polling requests are plain request/response: poem's tower compatibility layer
//! hands them to the gateway's tower service as they are.
//!
//! The websocket upgrade is not. socketioxide takes over a connection through hyper's
//! `OnUpgrade`, which it expects in the request's extensions; poem moves that value into
//! its own private request state when the request arrives, so a request converted back for
//! a tower service has none, and socketioxide's upgrade never completes. hyper offers no
//! public way to make an `OnUpgrade`, and the workspace forbids `unsafe`. So the bridge
//! lets hyper make one: it serves socketioxide over an in-memory HTTP/1.1 connection
//! (`tokio::io::duplex`) with upgrades enabled, replays the client's upgrade request on it,
//! answers the client with socketioxide's `101 Switching Protocols`, and, once both sides
//! have switched, copies bytes between poem's upgraded connection and the in-memory one.
//!
//! The cost is one extra copy of each websocket byte through memory and two small tasks
//! per connection; the gain is that socketioxide runs unmodified and the upgrade request
//! passes through the same middleware (request id, CORS, logging) as every other request.
//! The websocket message size limit is engineioxide's own (`ws_max_message_size` and
//! `ws_max_frame_size`, set by `Realtime`): it refuses an oversized frame at its header.

use adapter_realtime::{EventBodies, REQUEST_ID_HEADER, SocketIoHttp};
use bytes::Bytes;
use domain::{Post, Transfer};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use poem::endpoint::{BoxEndpoint, TowerCompatExt as _};
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, EndpointExt as _, IntoResponse, Request, Response};
use poem_openapi::types::ToJSON as _;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};

use crate::api::accounts::TransferDto;
use crate::api::posts::PostDto;
use crate::errors::ErrorBody;
use crate::request_context::current_request_id;

/// The events' bodies are the REST ones: a client sees the same JSON for a post or a
/// transfer whether it reads it from the API or receives it from the gateway.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestBodies;

impl EventBodies for RestBodies {
    fn post(&self, post: Post) -> Option<serde_json::Value> {
        PostDto::from(post).to_json()
    }

    fn transfer(&self, transfer: Transfer) -> Option<serde_json::Value> {
        TransferDto::from(transfer).to_json()
    }
}

/// Room for one direction of the in-memory connection; a full buffer applies
/// backpressure to the writer, as a socket's would.
const LOOPBACK_BUFFER_BYTES: usize = 64 * 1024;

/// Serves `/socket.io/*`; see the module documentation.
pub(crate) struct SocketIoEndpoint {
    gateway: SocketIoHttp,
    /// The same service through poem's tower compatibility layer, for polling requests.
    polling: BoxEndpoint<'static, Response>,
}

impl SocketIoEndpoint {
    pub(crate) fn new(gateway: SocketIoHttp) -> Self {
        Self {
            polling: gateway.clone().compat().boxed(),
            gateway,
        }
    }

    /// Replays the upgrade request on an in-memory connection to socketioxide and, when
    /// it switches protocols, splices that connection to the client's.
    async fn upgrade(&self, request: Request) -> Result<Response, anyhow::Error> {
        let Ok(client_upgrade) = request.take_upgrade() else {
            // The connection cannot be upgraded (e.g. HTTP/2 without extended CONNECT).
            return Ok(StatusCode::BAD_REQUEST.into_response());
        };
        let mut replayed = hyper::Request::builder()
            .method(request.method().clone())
            .uri(request.original_uri().clone())
            .body(Empty::<Bytes>::new())?;
        *replayed.headers_mut() = request.headers().clone();

        let (client_end, server_end) = tokio::io::duplex(LOOPBACK_BUFFER_BYTES);
        let gateway = self.gateway.clone();
        tokio::spawn(async move {
            if let Err(error) = gateway.serve_connection(server_end).await {
                tracing::debug!(target: "realtime", %error, "in-memory socket.io connection failed");
            }
        });
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(client_end))
                .await?;
        tokio::spawn(async move {
            if let Err(error) = connection.with_upgrades().await {
                tracing::debug!(target: "realtime", %error, "in-memory upgrade request failed");
            }
        });
        let mut answer = sender.send_request(replayed).await?;

        if answer.status() != StatusCode::SWITCHING_PROTOCOLS {
            // socketioxide refused (unknown session, bad key, ...): pass its answer on.
            let (parts, body) = answer.into_parts();
            let body = body.collect().await?.to_bytes();
            let mut response = Response::builder().status(parts.status).body(body);
            *response.headers_mut() = parts.headers;
            return Ok(response);
        }
        let engine_upgrade = hyper::upgrade::on(&mut answer);
        tokio::spawn(async move {
            match tokio::try_join!(
                async { client_upgrade.await.map_err(anyhow::Error::from) },
                async { engine_upgrade.await.map_err(anyhow::Error::from) },
            ) {
                Ok((client, engine)) => {
                    splice(client, TokioIo::new(engine)).await;
                }
                Err(error) => {
                    tracing::debug!(target: "realtime", error = format!("{error:#}"), "websocket upgrade did not complete");
                }
            }
        });
        let mut response = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .finish();
        *response.headers_mut() = answer.headers().clone();
        Ok(response)
    }
}

impl Endpoint for SocketIoEndpoint {
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        // socketioxide keeps the headers of the request that opened a session; the request
        // id lets the gateway's connection logs point at the request log line.
        if let Ok(request_id) = HeaderValue::from_str(&current_request_id()) {
            request.headers_mut().insert(REQUEST_ID_HEADER, request_id);
        }
        if !is_websocket_upgrade(&request) {
            return self.polling.call(request).await;
        }
        Ok(self.upgrade(request).await.unwrap_or_else(|error| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorBody::internal(&error.context("could not hand the websocket to socket.io")),
            )
                .into_response()
        }))
    }
}

fn is_websocket_upgrade(request: &Request) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// Copies bytes both ways. When either side ends, the writer towards the other is shut
/// down and both connections are dropped: a client that vanishes without closing is found
/// by socketioxide's ping timeout, which ends the socketioxide side and so this copy.
async fn splice(
    client: impl AsyncRead + AsyncWrite + Send,
    engine: impl AsyncRead + AsyncWrite + Send,
) {
    let (mut client_reader, mut client_writer) = tokio::io::split(client);
    let (mut engine_reader, mut engine_writer) = tokio::io::split(engine);
    let inbound = async {
        let outcome = tokio::io::copy(&mut client_reader, &mut engine_writer).await;
        let _ = engine_writer.shutdown().await;
        outcome
    };
    let outbound = async {
        let outcome = tokio::io::copy(&mut engine_reader, &mut client_writer).await;
        let _ = client_writer.shutdown().await;
        outcome
    };
    let (direction, outcome) = tokio::select! {
        outcome = inbound => ("from the client", outcome),
        outcome = outbound => ("to the client", outcome),
    };
    if let Err(error) = outcome {
        tracing::debug!(target: "realtime", %error, direction, "websocket ended with an I/O error");
    }
}
