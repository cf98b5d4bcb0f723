//! Sending mail with lettre: SMTP in production (`mail::smtp`: one
//! connection per delivery round, TCP_NODELAY), `.eml` files under the data
//! directory as the embedded default (so a fresh install shows what it would
//! send). The Message-ID comes from the caller (the notice id), so a resend
//! after a crash carries the same one.

pub mod smtp;
pub mod templates;

use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{FileTransport, Message, Transport};
use secrecy::ExposeSecret;

use crate::config::{MailTransport, Settings};

/// One message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub message_id: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

/// A file sent with a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Connection refused, timeout, 4xx: try again later.
    Retry(String),
    /// 5xx or a message that can never be sent: give up.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Retry(e) => write!(f, "temporary: {e}"),
            SendError::Permanent(e) => write!(f, "permanent: {e}"),
        }
    }
}

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        server: smtp::Server,
        from: Mailbox,
    },
    File {
        transport: FileTransport,
        from: Mailbox,
    },
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings
            .mail_from
            .parse()
            .with_context(|| format!("mail_from {:?} is not an address", settings.mail_from))?;
        match settings.mail_transport {
            MailTransport::Smtp => {
                let url = settings.smtp_url.as_ref().context("smtp_url is not set")?;
                let server = smtp::Server::from_url(
                    url.expose_secret(),
                    Duration::from_secs(settings.smtp_timeout_secs),
                )
                .map_err(|e| anyhow::anyhow!("smtp_url is invalid: {e}"))?;
                Ok(Mailer::Smtp { server, from })
            }
            MailTransport::File => {
                let dir = settings.data_dir.join("outbox");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                Ok(Mailer::File {
                    transport: FileTransport::new(dir),
                    from,
                })
            }
        }
    }

    fn from(&self) -> &Mailbox {
        match self {
            Mailer::Smtp { from, .. } | Mailer::File { from, .. } => from,
        }
    }

    /// Builds the message. Addresses that cannot be parsed are left out and
    /// returned, so one bad address does not stop the others.
    pub fn build(&self, mail: &Outgoing) -> Result<(Message, Vec<String>), SendError> {
        let mut builder = Message::builder()
            .from(self.from().clone())
            .message_id(Some(mail.message_id.clone()))
            // lettre encodes the subject; stripping line breaks keeps any
            // text from a task title out of the header structure entirely.
            .subject(mail.subject.replace(['\r', '\n'], " "));
        let mut invalid = Vec::new();
        let mut valid = 0;
        for to in &mail.to {
            match to.parse::<Mailbox>() {
                Ok(mbox) => {
                    builder = builder.to(mbox);
                    valid += 1;
                }
                Err(_) => invalid.push(to.clone()),
            }
        }
        if valid == 0 {
            return Err(SendError::Permanent(format!(
                "no valid recipient (invalid: {})",
                invalid.join(", ")
            )));
        }
        let body = MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.text.clone()),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(mail.html.clone()),
            );
        let body = if mail.attachments.is_empty() {
            body
        } else {
            let mut mixed = MultiPart::mixed().multipart(body);
            for a in &mail.attachments {
                let content_type = ContentType::parse(&a.content_type)
                    .map_err(|e| SendError::Permanent(format!("attachment {}: {e}", a.filename)))?;
                mixed = mixed.singlepart(
                    lettre::message::Attachment::new(a.filename.clone())
                        .body(a.bytes.clone(), content_type),
                );
            }
            mixed
        };
        let message = builder
            .multipart(body)
            .map_err(|e| SendError::Permanent(format!("message could not be built: {e}")))?;
        Ok((message, invalid))
    }

    /// What sends the messages of one delivery round: over SMTP, one
    /// connection for all of them, closed when the sender is dropped.
    pub fn sender(&self) -> Sender<'_> {
        Sender {
            mailer: self,
            way: match self {
                Mailer::Smtp { server, .. } => {
                    Way::Smtp(Box::new(smtp::Connection::new(server.clone())))
                }
                Mailer::File { transport, .. } => Way::File(transport),
            },
        }
    }
}

/// Sends messages one after the other (`Mailer::sender`).
pub struct Sender<'a> {
    mailer: &'a Mailer,
    way: Way<'a>,
}

enum Way<'a> {
    // Boxed: the connection (and its runtime) is large beside a reference.
    Smtp(Box<smtp::Connection>),
    File(&'a FileTransport),
}

impl Sender<'_> {
    /// Sends one message; returns the addresses left out as invalid.
    pub fn send(&mut self, mail: &Outgoing) -> Result<Vec<String>, SendError> {
        let (message, invalid) = self.mailer.build(mail)?;
        match &mut self.way {
            Way::Smtp(connection) => connection.send(message.envelope(), &message.formatted()),
            Way::File(transport) => transport
                .send(&message)
                .map(|_| ())
                .map_err(|e| SendError::Retry(e.to_string())),
        }?;
        Ok(invalid)
    }
}
