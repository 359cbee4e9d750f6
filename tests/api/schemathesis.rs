//! The document against the service, by schemathesis: every check (status codes, content
//! types, headers, response schemas, valid data accepted, invalid data refused, `Allow` on
//! undeclared methods, authentication, use after delete, ...) over its coverage, fuzzing
//! and stateful phases. Configuration: `tests/schemathesis/schemathesis.toml`.

use api_tests::{api_test, run_schemathesis};
use domain::Role;

api_test! {
    async fn schemathesis_finds_no_difference_between_the_document_and_the_service(app) {
        // An admin reaches every operation. The run cannot delete this admin (nobody may
        // delete themselves) nor demote it while it is the only one; should a run create a
        // second admin and then demote this one, the later answers are 403s, which every
        // check accepts for a caller without the right: the run stays sound, only thinner.
        let admin = app.create_user(Role::Admin).await;

        let output = run_schemathesis(&app, &admin.token).await;

        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "schemathesis found failures:\n{report}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(report.contains("passed"), "schemathesis ran no test case:\n{report}");
    }
}
