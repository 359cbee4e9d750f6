//! Mail adapter: turns the application's account emails into RFC 5322 messages (text and
//! HTML parts, Message-ID, Date) and hands them over. The outbox mailer writes one `.eml`
//! file per message, the default when no SMTP server is configured.

mod compose;
mod outbox;

pub use compose::{MailSettings, compose};
pub use outbox::OutboxMailer;
