//! SMTP over connections this module opens itself, so that they carry
//! `TCP_NODELAY` and serve a whole delivery round. lettre 0.11 leaves Nagle's
//! algorithm on and writes a message's body and its terminating `.` in two
//! writes, so every message waited for the server's delayed ACK (~40 ms);
//! and its transport opened a connection per message. lettre still speaks
//! the protocol here (`AsyncSmtpConnection`: EHLO, STARTTLS, AUTH, the mail
//! transaction); this module connects, bounds each exchange by the timeout,
//! reconnects after a broken connection and says QUIT at the end.
//!
//! The settings keep lettre's URL form (`smtp_url`): `smtp://` plain or with
//! `?tls=required` / `?tls=opportunistic` (STARTTLS), `smtps://` implicit
//! TLS, `user:pass@` for AUTH, a path for the EHLO name.

use std::borrow::Cow;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use super::SendError;

/// How the connection is secured.
#[derive(Clone)]
enum Security {
    Plain,
    /// STARTTLS: `required` refuses a server that does not offer it.
    StartTls {
        tls: TlsParameters,
        required: bool,
    },
    /// TLS from the first byte (`smtps://`, port 465).
    Implicit(TlsParameters),
}

/// The mail server and how to talk to it, from `smtp_url`.
#[derive(Clone)]
pub struct Server {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
}

impl Server {
    /// Reads lettre's URL form (as `SmtpTransport::from_url` does).
    pub fn from_url(url: &str, timeout: Duration) -> anyhow::Result<Server> {
        let url = reqwest::Url::parse(url)?;
        let host = url
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("no host"))?
            .to_string();
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let params = || TlsParameters::new(host.clone());
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::Plain, 25),
            ("smtp", Some(mode @ ("required" | "opportunistic"))) => (
                Security::StartTls {
                    tls: params()?,
                    required: mode == "required",
                },
                587,
            ),
            ("smtps", _) => (Security::Implicit(params()?), 465),
            (scheme, tls) => anyhow::bail!("unknown scheme {scheme:?} or tls parameter {tls:?}"),
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        let decode = |s: &str| -> anyhow::Result<String> {
            Ok(percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(Cow::into_owned)?)
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        Ok(Server {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            credentials,
            hello,
            timeout,
        })
    }

    /// A new connection, greeted, secured and signed in as configured.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let mut conn = match &self.security {
            // lettre opens an implicit-TLS connection itself (the greeting
            // comes over TLS, and lettre wraps only its own sockets in TLS
            // before the greeting): Nagle stays on there.
            Security::Implicit(tls) => {
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(self.timeout),
                    &self.hello,
                    Some(tls.clone()),
                    None,
                )
                .await?
            }
            Security::Plain | Security::StartTls { .. } => {
                let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(Failure::Io)?;
                tcp.set_nodelay(true).map_err(Failure::Io)?;
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?
            }
        };
        if let Security::StartTls { tls, required } = &self.security {
            // lettre's own rule: opportunistic goes on in clear when the
            // server offers no STARTTLS; required fails.
            if *required || conn.can_starttls() {
                conn.starttls(tls.clone(), &self.hello).await?;
            }
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }

    /// How long one message may take: the timeout, and as much again for
    /// every MiB (a bulletin's attachments over a slow link).
    fn message_timeout(&self, bytes: usize) -> Duration {
        let mib = u32::try_from(bytes / (1024 * 1024)).unwrap_or(u32::MAX);
        self.timeout.saturating_mul(mib.saturating_add(1))
    }
}

/// Why an exchange with the mail server failed.
#[derive(Debug)]
enum Failure {
    Smtp(lettre::transport::smtp::Error),
    Io(std::io::Error),
    TimedOut,
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(e: lettre::transport::smtp::Error) -> Failure {
        Failure::Smtp(e)
    }
}

impl Failure {
    /// The connection broke under us (closed by the server while it sat
    /// idle, say: lettre reads that as an "incomplete response"), as opposed
    /// to the server's answer (a 4xx or 5xx), a timeout or a TLS failure. A
    /// server that hangs up without answering has not taken the message.
    fn is_broken_connection(&self) -> bool {
        match self {
            Failure::Io(_) => true,
            Failure::Smtp(e) => {
                !(e.is_client()
                    || e.is_transient()
                    || e.is_permanent()
                    || e.is_timeout()
                    || e.is_tls())
            }
            Failure::TimedOut => false,
        }
    }
}

impl From<Failure> for SendError {
    fn from(f: Failure) -> SendError {
        match f {
            Failure::Smtp(e) if e.is_permanent() => SendError::Permanent(e.to_string()),
            Failure::Smtp(e) => SendError::Retry(e.to_string()),
            Failure::Io(e) => SendError::Retry(format!("connection error: {e}")),
            Failure::TimedOut => SendError::Retry("timed out".into()),
        }
    }
}

async fn within<T>(
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or(Err(Failure::TimedOut))
}

/// One connection to the mail server, opened at the first message and kept
/// for the next ones (a delivery round's); QUIT when dropped. It runs
/// lettre's async client on a runtime of its own, on the calling thread: the
/// delivery worker is blocking code (on tokio's blocking pool or a thread of
/// its own).
pub struct Connection {
    server: Server,
    runtime: Option<tokio::runtime::Runtime>,
    link: Option<AsyncSmtpConnection>,
}

impl Connection {
    pub fn new(server: Server) -> Connection {
        Connection {
            server,
            runtime: None,
            link: None,
        }
    }

    /// Sends one message. On a connection that carried earlier messages, a
    /// broken connection (the server closed it meanwhile) is opened again and
    /// the message sent once more: the server cannot have taken a message
    /// over a connection that was already gone.
    pub fn send(&mut self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        if self.runtime.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| SendError::Retry(format!("starting the SMTP client: {e}")))?;
            self.runtime = Some(runtime);
        }
        let Some(runtime) = &self.runtime else {
            return Err(SendError::Retry("no SMTP client".into()));
        };
        // lettre marks a connection broken after a refusal (it sends QUIT
        // and closes it): the next message gets a new one.
        if self.link.as_ref().is_some_and(|l| l.has_broken()) {
            self.link = None;
        }
        let reused = self.link.is_some();
        let server = &self.server;
        let link = &mut self.link;
        let mut attempt = || runtime.block_on(transaction(server, link, envelope, message));
        match attempt() {
            Err(f) if reused && f.is_broken_connection() => {
                tracing::debug!(error = ?f, "the SMTP connection broke between messages; reconnecting");
                Ok(attempt()?)
            }
            sent => Ok(sent?),
        }
    }
}

/// One mail transaction on `link`, opening it first when there is none; a
/// failure leaves no half-used connection behind (lettre has already said
/// QUIT after a refusal; after a timeout the state is unknown).
async fn transaction(
    server: &Server,
    link: &mut Option<AsyncSmtpConnection>,
    envelope: &Envelope,
    message: &[u8],
) -> Result<(), Failure> {
    let conn = match link.take() {
        Some(conn) => conn,
        None => within(server.timeout, server.connect()).await?,
    };
    let conn = link.insert(conn);
    let sent = within(server.message_timeout(message.len()), async {
        conn.send(envelope, message).await.map_err(Failure::from)
    })
    .await;
    if sent.is_err() {
        *link = None;
    }
    sent.map(|_| ())
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let (Some(runtime), Some(mut link)) = (self.runtime.take(), self.link.take()) {
            let limit = self.server.timeout;
            runtime.block_on(async move {
                let _ = tokio::time::timeout(limit, link.quit()).await;
            });
        }
    }
}
