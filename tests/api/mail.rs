//! Email delivery through a real SMTP server (the harness's `SmtpSink`): the welcome and
//! reset emails arrive, and an outage loses nothing.

use std::time::Duration;

use api_tests::{PASSWORD, eventually, reset_token_in, smtp_test};
use domain::{JobStatus, Role};
use serde_json::json;

smtp_test! {
    async fn the_welcome_email_arrives_after_registration(app, sink) {
        app.register(&json!({ "email": "ann@example.com", "password": "long enough password", "name": "Ann Lee" }))
            .await
            .expect(201);

        let received = sink.wait_for(1).await;

        assert_eq!(received[0].recipients, ["ann@example.com"]);
        assert_eq!(received[0].from, "no-reply@localhost");
        let text = &received[0].text;
        for expected in ["Subject: Welcome!", "Hello Ann Lee,", "multipart/alternative", "text/html", "Message-ID: <", "Date: "] {
            assert!(text.contains(expected), "{expected:?} in {text}");
        }
        let jobs = eventually("the welcome job succeeded", || async {
            let jobs = app.jobs().await;
            jobs.iter().all(|job| job.status == JobStatus::Succeeded).then_some(jobs)
        })
        .await;
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].kind.as_str(), "mail.welcome");
    }
}

smtp_test! {
    async fn a_user_created_by_an_admin_is_welcomed_too(app, sink) {
        let admin = app.create_user(Role::Admin).await;

        app.post_user(Some(&admin.token), &json!({ "email": "bob@example.com", "password": "long enough password" }))
            .await
            .expect(201);

        let received = sink.wait_for(1).await;
        assert_eq!(received[0].recipients, ["bob@example.com"]);
        assert!(received[0].text.contains("Hello bob,"));
    }
}

smtp_test! {
    async fn the_reset_email_arrives_and_its_token_works_exactly_once(app, sink) {
        app.create_user_with("ann@example.com", None, Role::User).await;

        app.request_password_reset("ann@example.com").await.expect(202);
        let received = sink.wait_for(1).await;
        let token = reset_token_in(&received[0].text).expect("a reset link");

        assert_eq!(received[0].recipients, ["ann@example.com"]);
        assert!(received[0].text.contains("Subject: Reset your password"));
        assert!(received[0].text.contains("https://app.example.com/reset-password?token="));
        app.confirm_password_reset(&token, "a brand new password").await.expect(204);
        app.confirm_password_reset(&token, "another new password")
            .await
            .expect_error(400, "Invalid or expired token");
        app.login("ann@example.com", PASSWORD).await.expect_error(401, "Invalid email or password");
        app.login("ann@example.com", "a brand new password").await.expect(200);
    }
}

smtp_test! {
    async fn registration_succeeds_while_the_mail_server_is_down_and_the_email_arrives_once_it_is_back(app, sink) {
        sink.stop();

        app.register(&json!({ "email": "ann@example.com", "password": "long enough password" }))
            .await
            .expect(201);
        let failed = eventually("a failed delivery attempt", || async {
            app.jobs().await.into_iter().find(|job| job.status == JobStatus::Failed)
        })
        .await;
        sink.resume().await;
        let received = sink.wait_for(1).await;
        // Later retries must not deliver it again.
        tokio::time::sleep(Duration::from_millis(500)).await;

        assert!(failed.last_error.is_some_and(|error| !error.is_empty()));
        assert_eq!(sink.received().len(), 1, "delivered exactly once");
        assert_eq!(received[0].recipients, ["ann@example.com"]);
        let job = &app.jobs().await[0];
        assert_eq!(job.status, JobStatus::Succeeded);
        assert!(job.attempts >= 2, "{job:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_that_never_greets_delays_the_email_but_loses_nothing() {
    let sink = api_tests::SmtpSink::start().await;
    let app = api_tests::TestApp::spawn_with(
        api_tests::Backend::Sqlite,
        &[("SMTP_URL", &sink.url()), ("SMTP_TIMEOUT_SECONDS", "1")],
    )
    .await
    .unwrap();
    sink.silence(true);

    let started = std::time::Instant::now();
    app.register(&json!({ "email": "ann@example.com", "password": "long enough password" }))
        .await
        .expect(201);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "registration waits for no mail"
    );
    let failed = eventually("an attempt that ran out of time", || async {
        app.jobs()
            .await
            .into_iter()
            .find(|job| job.status == JobStatus::Failed)
    })
    .await;
    sink.silence(false);
    let received = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("within 1s")),
        "{failed:?}"
    );
    assert_eq!(sink.received().len(), 1, "delivered exactly once");
    assert_eq!(received[0].recipients, ["ann@example.com"]);
}
