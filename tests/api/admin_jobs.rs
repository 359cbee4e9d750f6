//! `GET /api/v1/admin/jobs` and `POST /api/v1/admin/jobs/{id}/retry`.

use api_tests::{TestApp, api_test, eventually, smtp_test};
use domain::{JobStatus, Role};
use serde_json::{Value, json};

async fn register(app: &TestApp, email: &str) {
    app.register(&json!({ "email": email, "password": "long enough password" }))
        .await
        .expect(201);
}

/// Waits until every job in the queue has `status`.
async fn all_jobs_are(app: &TestApp, status: JobStatus) {
    eventually(&format!("every job {status}"), || async {
        app.jobs()
            .await
            .iter()
            .all(|job| job.status == status)
            .then_some(())
    })
    .await;
}

api_test! {
    async fn an_admin_lists_jobs_newest_first_with_filters(app) {
        let admin = app.create_user(Role::Admin).await;
        register(&app, "ann@example.com").await;
        register(&app, "bob@example.com").await;
        all_jobs_are(&app, JobStatus::Succeeded).await;

        let all = app.list_jobs(Some(&admin.token), "").await.expect(200);
        let succeeded = app.list_jobs(Some(&admin.token), "status=succeeded&queue=mail").await.expect(200);
        let dead = app.list_jobs(Some(&admin.token), "status=dead").await.expect(200);
        let other_queue = app.list_jobs(Some(&admin.token), "queue=other").await.expect(200);
        let second_page = app.list_jobs(Some(&admin.token), "page=2&limit=1").await.expect(200);

        assert_eq!(all["meta"], json!({ "page": 1, "limit": 10, "total": 2, "totalPages": 1 }));
        let job = &all["data"][0];
        let mut keys: Vec<&str> = job.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["attempts", "createdAt", "id", "kind", "lastError", "maxAttempts", "queue", "runAt", "status", "updatedAt"]);
        assert_eq!((&job["queue"], &job["kind"], &job["status"]), (&json!("mail"), &json!("mail.welcome"), &json!("succeeded")));
        assert_eq!((&job["attempts"], &job["maxAttempts"], &job["lastError"]), (&json!(1), &json!(12), &Value::Null));
        assert!(all["data"][0]["createdAt"].as_str() >= all["data"][1]["createdAt"].as_str(), "newest first");
        assert_eq!(succeeded["meta"]["total"], 2);
        assert_eq!(dead["meta"]["total"], 0);
        assert_eq!(other_queue["meta"]["total"], 0);
        assert_eq!(second_page["data"][0]["id"], all["data"][1]["id"]);
    }
}

api_test! {
    async fn only_admins_see_or_retry_jobs(app) {
        let user = app.create_user(Role::User).await;
        let id = uuid::Uuid::now_v7().to_string();

        app.list_jobs(Some(&user.token), "").await.expect_error(403, "Forbidden");
        app.retry_job(Some(&user.token), &id).await.expect_error(403, "Forbidden");
        app.list_jobs(None, "").await.expect_error(401, "Authentication required");
        app.retry_job(None, &id).await.expect_error(401, "Authentication required");
    }
}

api_test! {
    async fn invalid_filters_are_refused_with_every_problem_listed(app) {
        let admin = app.create_user(Role::Admin).await;

        app.list_jobs(Some(&admin.token), "status=done&queue=Bad%20Queue&page=0")
            .await
            .expect_validation_error(&json!({ "formErrors": [], "fieldErrors": {
                "page": ["Must be at least 1"],
                "status": ["Must be one of: queued, running, succeeded, failed, dead"],
                "queue": ["Must be 1 to 64 characters of lower-case letters, digits, '.', '-' or '_'"],
            } }));
    }
}

api_test! {
    async fn retrying_an_unknown_or_unfinished_job_is_refused(app) {
        let admin = app.create_user(Role::Admin).await;
        register(&app, "ann@example.com").await;
        all_jobs_are(&app, JobStatus::Succeeded).await;
        let job = app.jobs().await.remove(0);
        let unknown = uuid::Uuid::now_v7();

        app.retry_job(Some(&admin.token), &job.id.to_string())
            .await
            .expect_error(409, "Only dead or failed jobs can be retried; this one is succeeded");
        app.retry_job(Some(&admin.token), &unknown.to_string())
            .await
            .expect_error(404, &format!("Job with ID {unknown} not found"));
        app.retry_job(Some(&admin.token), "42").await.expect_error(400, "Invalid ID format");
    }
}

smtp_test! {
    /// The story the retry endpoint exists for: the mail server refused a recipient (a
    /// permanent error: the job is dead at once, without burning its attempts); once fixed,
    /// an admin retries it and the email goes out.
    async fn a_dead_email_job_is_delivered_after_an_admin_retry(app, sink) {
        let admin = app.create_user(Role::Admin).await;
        sink.refuse_recipients(true);
        register(&app, "ann@example.com").await;
        all_jobs_are(&app, JobStatus::Dead).await;
        let dead = app.list_jobs(Some(&admin.token), "status=dead").await.expect(200);
        let id = dead["data"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(dead["data"][0]["attempts"], 1);
        assert!(dead["data"][0]["lastError"].as_str().unwrap().contains("refused"));

        sink.refuse_recipients(false);
        let retried = app.retry_job(Some(&admin.token), &id).await.expect(202);
        let received = sink.wait_for(1).await;

        assert_eq!(retried["id"], id.as_str());
        assert_eq!(retried["attempts"], 0);
        assert_ne!(retried["status"], "dead");
        assert_eq!(received[0].recipients, ["ann@example.com"]);
        all_jobs_are(&app, JobStatus::Succeeded).await;
    }
}
