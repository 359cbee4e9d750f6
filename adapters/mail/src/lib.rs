//! Mail adapter: turns the application's account emails into RFC 5322 messages (text and
//! HTML parts from templates, Message-ID, Date) and delivers them: over SMTP (lettre), or
//! as one `.eml` file per message in an outbox directory, the default when no SMTP server
//! is configured.

mod compose;
mod outbox;
mod smtp;

pub use compose::{MailSettings, compose};
pub use outbox::OutboxMailer;
pub use smtp::{SmtpMailer, SmtpOptions, SmtpUrlError};
