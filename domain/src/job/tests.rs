use super::*;

#[test]
fn job_names_are_short_lower_case_identifiers() {
    assert!(JobKind::parse("mail.password-reset").is_ok());
    assert!(QueueName::parse("default_2").is_ok());
    for bad in ["", "Mail", "mail welcome", "mail/x", &"a".repeat(65)] {
        assert_eq!(JobKind::parse(bad), Err(JobNameError), "{bad:?}");
    }
}

#[test]
fn statuses_round_trip_through_their_names() {
    for status in JobStatus::ALL {
        assert_eq!(status.as_str().parse::<JobStatus>(), Ok(status));
    }
    assert_eq!("done".parse::<JobStatus>(), Err(JobStatusError));
}

#[test]
fn only_dead_and_failed_jobs_may_be_retried_by_hand() {
    assert!(JobStatus::Dead.is_retryable());
    assert!(JobStatus::Failed.is_retryable());
    assert!(!JobStatus::Queued.is_retryable());
    assert!(!JobStatus::Running.is_retryable());
    assert!(!JobStatus::Succeeded.is_retryable());
}

#[test]
fn the_payload_is_never_printed() {
    let payload = JobPayload::from_json(r#"{"token":"secret"}"#.to_owned());
    assert!(!format!("{payload:?}").contains("secret"));
}
