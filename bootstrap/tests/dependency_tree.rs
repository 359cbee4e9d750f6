//! What must stay out of the build: crates with known advisories that the service has no use
//! for (ARCHITECTURE.md, "Checking the dependency tree against the advisory database").

/// Crates with advisories, removed by patching poem-openapi (`vendor/poem-openapi/PATCHED.md`).
const KEPT_OUT: &[&str] = &["quick-xml", "serde_yaml"];

#[test]
fn the_lockfile_names_no_crate_that_was_kept_out() {
    let lockfile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("read the workspace's Cargo.lock");
    for name in KEPT_OUT {
        assert!(
            !lockfile.contains(&format!("name = \"{name}\"\n")),
            "{name} is back in Cargo.lock: `cargo tree -i {name}` shows what brought it"
        );
    }
    assert!(
        lockfile.contains("name = \"poem-openapi\"\nversion = \"5.1.16\"\ndependencies"),
        "poem-openapi comes from vendor/ (a path dependency has no source line)"
    );
}
