//! A TCP proxy that injects network faults between the app and a dependency (PostgreSQL,
//! Redis, SMTP), switchable while connections are open. The kernel here has no `netem`, so
//! faults go through a proxy, as Toxiproxy does it:
//!
//! - [`Fault::Pass`]: bytes flow both ways;
//! - [`Fault::Blackhole`]: connections are accepted and bytes are read, but nothing is
//!   forwarded either way (a peer that stopped answering; a partitioned network);
//! - [`Fault::Reset`]: every open connection is reset and new ones are reset at once;
//! - [`Fault::Latency`]: each chunk is delayed by that much, both ways.
//!
//! Switching to `Blackhole` holds the open connections silent; switching back to `Pass`
//! lets them flow again (what the peer sent meanwhile is dropped, as a network would).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    Blackhole,
    Reset,
    Latency(Duration),
}

/// A running proxy; stops (and drops its connections) when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    address: SocketAddr,
    fault: watch::Sender<Fault>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free local port and forwards to `upstream`, passing traffic.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("a bound address");
        let (fault, watcher) = watch::channel(Fault::Pass);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, upstream, watcher.clone()));
            }
        });
        Self {
            address,
            fault,
            task,
        }
    }

    /// A proxy in front of the server of `url` (its host, and its port or `default_port`).
    pub async fn in_front_of(url: &url::Url, default_port: u16) -> Self {
        let host = url.host_str().expect("a host in the URL").to_owned();
        let upstream = tokio::net::lookup_host((host, url.port().unwrap_or(default_port)))
            .await
            .expect("the host resolves")
            .next()
            .expect("an address of the host");
        Self::start(upstream).await
    }

    /// Where the app should connect instead of the dependency.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Applies `fault` to open and new connections from now on.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, fault: watch::Receiver<Fault>) {
    if *fault.borrow() == Fault::Reset {
        reset(client);
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        reset(client);
        return;
    };
    let reset_both = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let mut watcher = fault.clone();
        tokio::select! {
            () = pipe(client_read, server_write, fault.clone()) => false,
            () = pipe(server_read, client_write, fault) => false,
            () = async {
                while watcher.changed().await.is_ok() {
                    if *watcher.borrow() == Fault::Reset {
                        return;
                    }
                }
                std::future::pending::<()>().await;
            } => true,
        }
    };
    if reset_both {
        reset(client);
        reset(server);
    }
}

/// Copies `from` to `to` chunk by chunk, applying the fault current at each chunk.
async fn pipe(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    fault: watch::Receiver<Fault>,
) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let current = *fault.borrow();
        match current {
            Fault::Pass => {}
            Fault::Blackhole => continue,
            Fault::Reset => return,
            Fault::Latency(delay) => tokio::time::sleep(delay).await,
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// Closes `stream` with a TCP reset rather than an orderly end.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};

    use super::{Fault, FaultProxy};

    /// An upstream that echoes every byte back.
    async fn echo() -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = stream.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        address
    }

    async fn round_trip(stream: &mut TcpStream, within: Duration) -> std::io::Result<Vec<u8>> {
        stream.write_all(b"ping").await?;
        let mut answer = [0_u8; 4];
        tokio::time::timeout(within, stream.read_exact(&mut answer))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        Ok(answer.to_vec())
    }

    #[tokio::test]
    async fn each_fault_does_what_it_says_and_pass_restores_the_open_connection() {
        let proxy = FaultProxy::start(echo().await).await;
        let mut stream = TcpStream::connect(proxy.address()).await.unwrap();
        assert_eq!(
            round_trip(&mut stream, Duration::from_secs(2))
                .await
                .unwrap(),
            b"ping"
        );

        proxy.set(Fault::Blackhole);
        let silent = round_trip(&mut stream, Duration::from_millis(300)).await;
        assert_eq!(silent.unwrap_err().kind(), std::io::ErrorKind::TimedOut);

        proxy.set(Fault::Pass);
        assert_eq!(
            round_trip(&mut stream, Duration::from_secs(2))
                .await
                .unwrap(),
            b"ping"
        );

        proxy.set(Fault::Latency(Duration::from_millis(200)));
        let started = Instant::now();
        round_trip(&mut stream, Duration::from_secs(2))
            .await
            .unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "delayed both ways"
        );

        proxy.set(Fault::Reset);
        let mut buffer = [0_u8; 1];
        let ended = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer))
            .await
            .expect("the open connection ends at once");
        assert!(
            matches!(&ended, Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset),
            "{ended:?}"
        );
        let mut fresh = TcpStream::connect(proxy.address()).await.unwrap();
        assert!(
            round_trip(&mut fresh, Duration::from_secs(2))
                .await
                .is_err()
        );
    }
}
