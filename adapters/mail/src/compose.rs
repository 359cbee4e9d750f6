//! Composition of account emails: a subject per kind, text and HTML bodies rendered from
//! compile-time-checked templates (askama; a template that does not match its struct fails
//! the build).

use askama::Template;
use chrono::{DateTime, Utc};
use domain::ports::{AccountEmail, EmailLink};
use domain::{OpaqueToken, User};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

/// The pages of the client application that links point to (under `PUBLIC_URL`).
const VERIFY_PAGE: &str = "verify-email";
const RESET_PAGE: &str = "reset-password";
const FORGOT_PASSWORD_PAGE: &str = "forgot-password";

/// What every message needs beyond its content.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The sender, e.g. `no-reply@example.com` or `Example <no-reply@example.com>`.
    pub from: Mailbox,
    /// Base of links in emails, without a trailing slash.
    pub public_url: String,
}

/// Declares one template struct per file; the HTML ones escape every value (askama escapes
/// `.html` templates), links included.
macro_rules! templates {
    ($($name:ident = $path:literal { $($field:ident: $type:ty),* })+) => {$(
        #[derive(Template)]
        #[template(path = $path)]
        struct $name<'a> {
            $($field: $type,)*
        }
    )+};
}

templates! {
    WelcomeText = "welcome.txt" { name: &'a str, link: Option<&'a str>, until: &'a str }
    WelcomeHtml = "welcome.html" { name: &'a str, link: Option<&'a str>, until: &'a str }
    PasswordResetText = "password_reset.txt" { name: &'a str, link: &'a str, until: &'a str }
    PasswordResetHtml = "password_reset.html" { name: &'a str, link: &'a str, until: &'a str }
    VerificationText = "email_verification.txt" { name: &'a str, link: &'a str, until: &'a str }
    VerificationHtml = "email_verification.html" { name: &'a str, link: &'a str, until: &'a str }
    PasswordChangedText = "password_changed.txt" { name: &'a str, link: &'a str }
    PasswordChangedHtml = "password_changed.html" { name: &'a str, link: &'a str }
}

/// The message for `email`, addressed to its user: a subject per kind, text and HTML
/// parts from the templates in `templates/`, a Message-ID and a Date.
pub fn compose(email: &AccountEmail, settings: &MailSettings) -> anyhow::Result<Message> {
    let base = settings.public_url.trim_end_matches('/');
    let link_to = |page: &str, token: &OpaqueToken, expires_at: &DateTime<Utc>| {
        (
            format!("{base}/{page}?token={}", token.expose()),
            expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    };
    let (user, subject, text, html) = match email {
        AccountEmail::Welcome { user, verification } => {
            let name = &greeting_name(user);
            let (link, until) = verification
                .as_ref()
                .map(|EmailLink { token, expires_at }| link_to(VERIFY_PAGE, token, expires_at))
                .unzip();
            let (link, until) = (link.as_deref(), until.as_deref().unwrap_or_default());
            (
                user,
                "Welcome!",
                WelcomeText { name, link, until }.render()?,
                WelcomeHtml { name, link, until }.render()?,
            )
        }
        AccountEmail::PasswordReset {
            user,
            token,
            expires_at,
        } => {
            let name = &greeting_name(user);
            let (link, until) = &link_to(RESET_PAGE, token, expires_at);
            (
                user,
                "Reset your password",
                PasswordResetText { name, link, until }.render()?,
                PasswordResetHtml { name, link, until }.render()?,
            )
        }
        AccountEmail::EmailVerification {
            user,
            link: EmailLink { token, expires_at },
        } => {
            let name = &greeting_name(user);
            let (link, until) = &link_to(VERIFY_PAGE, token, expires_at);
            (
                user,
                "Confirm your email address",
                VerificationText { name, link, until }.render()?,
                VerificationHtml { name, link, until }.render()?,
            )
        }
        AccountEmail::PasswordChanged { user } => {
            let name = &greeting_name(user);
            let link = &format!("{base}/{FORGOT_PASSWORD_PAGE}");
            (
                user,
                "Your password was changed",
                PasswordChangedText { name, link }.render()?,
                PasswordChangedHtml { name, link }.render()?,
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
            email_verified: false,
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
                verification: None,
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
        let message = compose(
            &AccountEmail::Welcome {
                user: user(None),
                verification: None,
            },
            &settings(),
        )
        .unwrap();

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

    fn link(token: &str) -> EmailLink {
        EmailLink {
            token: OpaqueToken::new(token.to_owned()),
            expires_at: Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn the_welcome_mail_carries_the_verification_link_in_both_parts() {
        let email = AccountEmail::Welcome {
            user: user(None),
            verification: Some(link("tok_456")),
        };

        let text = text_of(&compose(&email, &settings()).unwrap());

        let url = "https://app.example.com/verify-email?token=tok_456";
        assert_eq!(text.matches(url).count(), 2, "{text}");
        assert!(text.contains("2026-11-25 08:00 UTC"));
    }

    #[test]
    fn the_verification_mail_links_to_the_verify_page() {
        let email = AccountEmail::EmailVerification {
            user: user(None),
            link: link("tok_789"),
        };

        let text = text_of(&compose(&email, &settings()).unwrap());

        assert!(text.contains("Subject: Confirm your email address"));
        assert_eq!(
            text.matches("https://app.example.com/verify-email?token=tok_789")
                .count(),
            2
        );
    }

    #[test]
    fn the_password_changed_mail_points_to_the_reset_page() {
        let email = AccountEmail::PasswordChanged { user: user(None) };

        let text = text_of(&compose(&email, &settings()).unwrap());

        assert!(text.contains("Subject: Your password was changed"));
        assert!(text.contains("https://app.example.com/forgot-password"));
        assert!(text.contains("every other session was signed out"));
    }
}
