//! schemathesis, the property-based API tester, run against the app's own `/openapi.json`:
//! it generates requests from the document (valid ones, and invalid ones of every kind),
//! sends them, and checks every response against the document and RFC 9110.
//!
//! It is installed on first use into `tests/schemathesis/.venv`, pinned by
//! `tests/schemathesis/requirements.txt`, by `tests/schemathesis/install.sh` (which
//! `.ci/run` also runs up front). Without Python 3 the test fails with a message that says so.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use crate::TestApp;

fn directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemathesis")
}

/// Installs schemathesis once per test process (the script itself returns at once when
/// the pinned version is in place, and serialises concurrent installs).
fn install_once() -> PathBuf {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let script = directory().join("install.sh");
            let output = std::process::Command::new("bash")
                .arg(&script)
                .output()
                .unwrap_or_else(|error| panic!("could not run {}: {error}", script.display()));
            assert!(
                output.status.success(),
                "installing schemathesis failed; it needs python3 with venv, and PyPI once:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            directory().join(".venv/bin/st")
        })
        .clone()
}

/// Runs `st run --checks all` against `app` with `bearer` on every request, under the
/// committed configuration (seed, example count, the contract's exceptions). Returns the
/// process's output; its exit status is zero when no check failed.
pub async fn run_schemathesis(app: &TestApp, bearer: &str) -> Output {
    let st = install_once();
    let config = directory().join("schemathesis.toml");
    tokio::process::Command::new(st)
        .arg("--config-file")
        .arg(config)
        .arg("--no-color")
        .args(["run", &app.url("/openapi.json"), "--checks", "all"])
        .args(["--header", &format!("Authorization: Bearer {bearer}")])
        // Whatever it writes (reports, Hypothesis' files) stays out of the source tree.
        .current_dir(std::env::temp_dir())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run schemathesis")
}
