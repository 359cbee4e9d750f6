//! Composition of account emails: subject, text and HTML bodies per kind.

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

/// The message for `email`, addressed to its user.
pub fn compose(email: &AccountEmail, settings: &MailSettings) -> anyhow::Result<Message> {
    let (user, subject, text, html) = match email {
        AccountEmail::Welcome { user } => {
            let name = greeting_name(user);
            (
                user,
                "Welcome!".to_owned(),
                format!("Hello {name},\n\nwelcome aboard: your account is ready.\n"),
                format!(
                    "<p>Hello {},</p><p>welcome aboard: your account is ready.</p>",
                    escape_html(&name)
                ),
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
            let until = expires_at.format("%Y-%m-%d %H:%M UTC");
            (
                user,
                "Reset your password".to_owned(),
                format!(
                    "Hello {},\n\nsomeone asked to reset the password of this account. If it was you, open\n\n{link}\n\n\
                     The link works once, until {until}. If it was not you, ignore this email.\n",
                    greeting_name(user)
                ),
                format!(
                    "<p>Hello {},</p><p>someone asked to reset the password of this account. If it was you, \
                     <a href=\"{link}\">choose a new password</a>.</p><p>The link works once, until {until}. \
                     If it was not you, ignore this email.</p>",
                    escape_html(&greeting_name(user))
                ),
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

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use domain::{Email, OpaqueToken, Role, UserId, UserName};

    use super::*;

    fn settings() -> MailSettings {
        MailSettings {
            from: "no-reply@example.com".parse().unwrap(),
            public_url: "https://app.example.com/".to_owned(),
        }
    }

    fn user(name: Option<&str>) -> User {
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
            text.contains("Hello Ann &lt;Lee&gt;,"),
            "the HTML part escapes the name"
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
