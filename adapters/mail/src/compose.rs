//! Composition of account emails: a subject per kind, text and HTML bodies rendered from
//! compile-time-checked templates (askama; a template that does not match its struct fails
//! the build).

use askama::Template;
use domain::User;
use domain::ports::AccountEmail;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

/// What every message needs beyond its content.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The sender, e.g. `no-reply@example.com` or `Example <no-reply@example.com>`.
    pub from: Mailbox,
    /// Base of links in emails, without a trailing slash.
    pub public_url: String,
}

#[derive(Template)]
#[template(path = "welcome.txt")]
struct WelcomeText<'a> {
    name: &'a str,
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomeHtml<'a> {
    name: &'a str,
}

#[derive(Template)]
#[template(path = "password_reset.txt")]
struct PasswordResetText<'a> {
    name: &'a str,
    link: &'a str,
    until: &'a str,
}

/// Escapes every value (askama escapes `.html` templates), the link included.
#[derive(Template)]
#[template(path = "password_reset.html")]
struct PasswordResetHtml<'a> {
    name: &'a str,
    link: &'a str,
    until: &'a str,
}

/// The message for `email`, addressed to its user: a subject per kind, text and HTML
/// parts from the templates in `templates/`, a Message-ID and a Date.
pub fn compose(email: &AccountEmail, settings: &MailSettings) -> anyhow::Result<Message> {
    let (user, subject, text, html) = match email {
        AccountEmail::Welcome { user } => {
            let name = greeting_name(user);
            let name = name.as_str();
            (
                user,
                "Welcome!",
                WelcomeText { name }.render()?,
                WelcomeHtml { name }.render()?,
            )
        }
        AccountEmail::PasswordReset {
            user,
            token,
            expires_at,
        } => {
            let link = format!(
                "{}/reset-password?token={}",
                settings.public_url.trim_end_matches('/'),
                token.expose()
            );
            let until = expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
            let name = greeting_name(user);
            let (name, link, until) = (name.as_str(), link.as_str(), until.as_str());
            (
                user,
                "Reset your password",
                PasswordResetText { name, link, until }.render()?,
                PasswordResetHtml { name, link, until }.render()?,
            )
        }
    };
    let domain = settings.from.email.domain().to_owned();
    Ok(Message::builder()
        .from(settings.from.clone())
        .to(user.email.as_str().parse()?)
        .subject(subject)
        .message_id(Some(format!("<{}@{domain}>", uuid::Uuid::now_v7())))
        .date_now()
        .multipart(MultiPart::alternative_plain_html(text, html))?)
}

/// The user's name, or the local part of their email.
fn greeting_name(user: &User) -> String {
    user.name.as_ref().map_or_else(
        || {
            user.email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        },
        |name| name.as_str().to_owned(),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};
    use domain::{Email, OpaqueToken, Role, UserId, UserName};

    use super::*;

    fn settings() -> MailSettings {
        MailSettings {
            from: "no-reply@example.com".parse().unwrap(),
            public_url: "https://app.example.com/".to_owned(),
        }
    }

    pub(crate) fn user(name: Option<&str>) -> User {
        User {
            id: UserId::generate(),
            email: Email::parse("ann@example.com").unwrap(),
            name: name.map(|name| UserName::parse(name).unwrap()),
            role: Role::User,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn text_of(message: &Message) -> String {
        decode_quoted_printable(&String::from_utf8(message.formatted()).unwrap())
    }

    /// What a mail client shows: soft line breaks joined, `=XX` escapes decoded.
    fn decode_quoted_printable(text: &str) -> String {
        let joined = text.replace("=\r\n", "");
        let mut bytes = Vec::new();
        let mut rest = joined.as_bytes();
        while let Some((&byte, tail)) = rest.split_first() {
            match (byte, tail) {
                (b'=', [high, low, tail @ ..])
                    if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() =>
                {
                    bytes.push(
                        u8::from_str_radix(std::str::from_utf8(&[*high, *low]).unwrap(), 16)
                            .unwrap(),
                    );
                    rest = tail;
                }
                _ => {
                    bytes.push(byte);
                    rest = tail;
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn the_welcome_mail_greets_the_user_by_name_with_text_and_html_parts() {
        let message = compose(
            &AccountEmail::Welcome {
                user: user(Some("Ann <Lee>")),
            },
            &settings(),
        )
        .unwrap();
        let text = text_of(&message);

        assert!(text.contains("Subject: Welcome!"));
        assert!(text.contains("To: ann@example.com"));
        assert!(text.contains("Message-ID: <"));
        assert!(text.contains("Date: "));
        assert!(text.contains("Hello Ann <Lee>,"));
        assert!(
            text.contains("Hello Ann &#60;Lee&#62;,") || text.contains("Hello Ann &lt;Lee&gt;,"),
            "the HTML part escapes the name: {text}"
        );
        assert!(text.contains("multipart/alternative"));
    }

    #[test]
    fn without_a_name_the_greeting_uses_the_email_local_part() {
        let message = compose(&AccountEmail::Welcome { user: user(None) }, &settings()).unwrap();

        assert!(text_of(&message).contains("Hello ann,"));
    }

    #[test]
    fn the_reset_mail_links_to_the_public_url_with_the_token() {
        let email = AccountEmail::PasswordReset {
            user: user(None),
            token: OpaqueToken::new("tok_123".to_owned()),
            expires_at: Utc.with_ymd_and_hms(2026, 11, 24, 12, 30, 0).unwrap(),
        };

        let text = text_of(&compose(&email, &settings()).unwrap());

        assert!(text.contains("Subject: Reset your password"));
        assert!(text.contains("https://app.example.com/reset-password?token=tok_123"));
        assert!(text.contains("2026-11-24 12:30 UTC"));
    }
}
