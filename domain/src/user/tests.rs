use proptest::prelude::*;

use super::*;

fn job(kind: &'static str) -> crate::NewJob {
    crate::NewJob::new(
        crate::QueueName::from_static("mail"),
        crate::JobKind::from_static(kind),
        crate::JobPayload::from_json("{}".to_owned()),
        Utc::now(),
    )
}

#[test]
fn a_new_users_jobs_are_its_own_then_its_tokens_and_both_are_left_empty() {
    let token = crate::session::NewVerificationToken {
        id: uuid::Uuid::now_v7(),
        user_id: UserId::generate(),
        email: Email::parse("ann@example.com").unwrap(),
        token_hash: crate::TokenHash::from_hex("h".to_owned()),
        created_at: Utc::now(),
        expires_at: Utc::now(),
        outbox: job("mail.token").into(),
    };
    let mut user = NewUser {
        id: token.user_id,
        email: token.email.clone(),
        name: None,
        role: Role::User,
        password_hash: PasswordHash::from_phc("$argon2id$x".to_owned()),
        created_at: Utc::now(),
        email_verified: false,
        email_verification: Some(token),
        outbox: job("mail.welcome").into(),
    };

    let outbox = user.take_outbox();

    let kinds: Vec<_> = outbox.kinds().map(crate::JobKind::as_str).collect();
    assert_eq!(kinds, ["mail.welcome", "mail.token"]);
    assert!(user.outbox.is_empty());
    assert!(user.email_verification.unwrap().outbox.is_empty());
}

#[test]
fn only_removing_the_one_remaining_admin_leaves_no_admin() {
    let (ann, bob) = (UserId::generate(), UserId::generate());
    assert!(leaves_no_admin(&[ann], ann));
    assert!(!leaves_no_admin(&[ann, bob], ann));
    assert!(!leaves_no_admin(&[ann], bob));
    assert!(!leaves_no_admin(&[], ann));
}

#[test]
fn name_is_trimmed_and_must_not_be_blank() {
    assert_eq!(UserName::parse("  Ann ").unwrap().as_str(), "Ann");
    assert_eq!(UserName::parse("   "), Err(UserNameError::Empty));
}

#[test]
fn name_and_search_term_are_measured_as_typed_before_they_are_trimmed() {
    let padded = format!(" {} ", "n".repeat(99));
    assert_eq!(UserName::parse(&padded), Err(UserNameError::TooLong));
    assert_eq!(SearchTerm::parse(&padded), Err(SearchTermError::TooLong));
}

#[test]
fn name_counts_characters_not_bytes() {
    assert!(UserName::parse(&"é".repeat(100)).is_ok());
    assert_eq!(
        UserName::parse(&"é".repeat(101)),
        Err(UserNameError::TooLong)
    );
}

#[test]
fn name_with_a_control_character_is_refused() {
    assert_eq!(
        UserName::parse("Ann\u{0}Lee"),
        Err(UserNameError::ControlCharacter)
    );
    // Also where trimming would have removed it: the rule is on the text as sent.
    assert_eq!(
        UserName::parse("\tAnn"),
        Err(UserNameError::ControlCharacter)
    );
}

#[test]
fn role_parses_only_the_two_known_names() {
    assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
    assert_eq!("user".parse::<Role>(), Ok(Role::User));
    assert_eq!("ADMIN".parse::<Role>(), Err(RoleError));
}

#[test]
fn blank_search_term_means_no_filter() {
    assert_eq!(SearchTerm::parse("  "), Ok(None));
    assert_eq!(SearchTerm::parse(" Lee ").unwrap().unwrap().as_str(), "lee");
}

proptest! {

    #[test]
    fn a_parsed_name_is_never_blank_or_over_100_characters(text in "\\PC{0,120}") {
        if let Ok(name) = UserName::parse(&text) {
            prop_assert!(!name.as_str().trim().is_empty());
            prop_assert!(name.as_str().chars().count() <= 100);
        }
    }

}
