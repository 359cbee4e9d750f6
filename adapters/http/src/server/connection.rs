//! One accepted TCP connection as hyper sees it: the stream, the slot it holds under the
//! connection cap, when it was last active, and how many requests it has in flight (so
//! that the idle timeout never cuts a request that is still being answered).
//!
//! The slot is released when the stream is dropped, not when hyper's connection future
//! ends: an upgraded websocket keeps the stream, and so keeps counting against the cap.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::parse_errors::ParseErrorRewriter;

/// What the connection's task and its request handlers share.
#[derive(Debug)]
pub(super) struct Activity {
    opened: Instant,
    /// Milliseconds since `opened` of the last byte read or written.
    last_active_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            last_active_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let elapsed = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active_ms.store(elapsed, Ordering::Relaxed);
    }

    /// Marks a request as being answered until the guard is dropped.
    pub(super) fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    /// Completes once the connection has had no traffic and no request in flight for
    /// `idle`.
    pub(super) async fn idle_for(&self, idle: Duration) {
        loop {
            let last_active =
                self.opened + Duration::from_millis(self.last_active_ms.load(Ordering::Relaxed));
            let deadline = last_active + idle;
            if Instant::now() >= deadline {
                if self.in_flight.load(Ordering::Relaxed) == 0 {
                    return;
                }
                // A request is being answered: it is the handler's time, not the client's.
                self.touch();
                continue;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// See [`Activity::request_started`].
#[derive(Debug)]
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The accepted stream, wrapped.
#[derive(Debug)]
pub(super) struct Connection {
    stream: TcpStream,
    activity: Arc<Activity>,
    parse_errors: ParseErrorRewriter,
    _slot: OwnedSemaphorePermit,
}

impl Connection {
    pub(super) fn new(
        stream: TcpStream,
        slot: OwnedSemaphorePermit,
        activity: Arc<Activity>,
    ) -> Self {
        Self {
            stream,
            activity,
            parse_errors: ParseErrorRewriter::default(),
            _slot: slot,
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buffer.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(context, buffer);
        if matches!(polled, Poll::Ready(Ok(()))) && buffer.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.activity.touch();
        this.parse_errors
            .poll_write(Pin::new(&mut this.stream), context, buffer)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.activity.touch();
        this.parse_errors
            .poll_write_vectored(Pin::new(&mut this.stream), context, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }
}
