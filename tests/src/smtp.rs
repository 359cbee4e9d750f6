//! `SmtpSink`: a small but real SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA
//! with dot-unstuffing, RSET, NOOP, QUIT) that keeps every message it accepts. Stopping it
//! closes the listener and every open connection, as a crashed mail server would; starting
//! it again listens on the same port.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::app::decode_quoted_printable;

/// A message as the sink received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub recipients: Vec<String>,
    /// The message, quoted-printable decoded (what a mail client shows).
    pub text: String,
}

/// A real SMTP server on `127.0.0.1`, on a free port.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    refuse_recipients: Arc<AtomicBool>,
    silent: Arc<AtomicBool>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let port = listener.local_addr().expect("the sink's address").port();
        let sink = Self {
            port,
            received: Arc::default(),
            refuse_recipients: Arc::default(),
            silent: Arc::default(),
            server: Mutex::new(None),
        };
        sink.serve(listener);
        sink
    }

    /// `smtp://127.0.0.1:<port>`, for `SMTP_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Closes the listener and every connection: deliveries fail until [`SmtpSink::resume`].
    pub fn stop(&self) {
        if let Some(server) = self.server.lock().expect("sink lock").take() {
            server.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn resume(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the SMTP sink again");
        self.serve(listener);
    }

    /// While set, every recipient is refused with a permanent `550` (an unknown mailbox).
    pub fn refuse_recipients(&self, refuse: bool) {
        self.refuse_recipients.store(refuse, Ordering::SeqCst);
    }

    /// While set, new connections are accepted and then never spoken to: no greeting, as a
    /// hung mail server. They stay silent until the sink stops.
    pub fn silence(&self, silent: bool) {
        self.silent.store(silent, Ordering::SeqCst);
    }

    /// Everything received so far, in order.
    #[must_use]
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().expect("sink lock").clone()
    }

    /// Waits (up to 10 s) until `count` messages arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        crate::eventually(&format!("{count} messages at the SMTP sink"), || async {
            let received = self.received();
            (received.len() >= count).then_some(received)
        })
        .await
    }

    fn serve(&self, listener: TcpListener) {
        let received = Arc::clone(&self.received);
        let refuse = Arc::clone(&self.refuse_recipients);
        let silent = Arc::clone(&self.silent);
        let server = tokio::spawn(async move {
            // Owned here: aborting the server drops the set, which closes every connection.
            let mut sessions = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                if silent.load(Ordering::SeqCst) {
                    sessions.spawn(async move {
                        let _held = stream;
                        std::future::pending::<std::io::Result<()>>().await
                    });
                    continue;
                }
                sessions.spawn(session(stream, Arc::clone(&received), Arc::clone(&refuse)));
            }
        });
        *self.server.lock().expect("sink lock") = Some(server);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One SMTP conversation. Protocol errors end it; the client sees a closed connection.
async fn session(
    stream: TcpStream,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    refuse_recipients: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    writer.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut recipients = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "MAIL" => {
                from = address(&line);
                recipients.clear();
                b"250 OK\r\n"
            }
            "RCPT" if refuse_recipients.load(Ordering::SeqCst) => b"550 No such user here\r\n",
            "RCPT" => {
                recipients.push(address(&line));
                b"250 OK\r\n"
            }
            "DATA" => {
                writer
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    // Dot-unstuffing: a leading dot was doubled by the client.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push_str("\r\n");
                }
                received.lock().expect("sink lock").push(ReceivedMail {
                    from: std::mem::take(&mut from),
                    recipients: std::mem::take(&mut recipients),
                    text: decode_quoted_printable(&data),
                });
                b"250 OK: queued\r\n"
            }
            "RSET" => {
                from.clear();
                recipients.clear();
                b"250 OK\r\n"
            }
            "QUIT" => {
                writer.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        writer.write_all(reply).await?;
    }
    Ok(())
}

/// The address in `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
