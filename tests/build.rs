//! Which optional suites can run, from the variables set at build time: without
//! `TEST_DATABASE_URL`, `TEST_REDIS_URL` or `TEST_RESTARTABLE_DATABASE_URL`, the cases that
//! need them are compiled as ignored, so that cargo's summary shows them skipped instead of
//! passed. (Changing a variable rebuilds the tests.)

const SUITES: [(&str, &str); 3] = [
    ("TEST_DATABASE_URL", "postgres_tests"),
    ("TEST_REDIS_URL", "redis_tests"),
    (
        "TEST_RESTARTABLE_DATABASE_URL",
        "restartable_postgres_tests",
    ),
];

fn main() {
    for (variable, cfg) in SUITES {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={variable}");
        if std::env::var_os(variable).is_some_and(|value| !value.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
