//! Access to the shared corpora (../shared/data) for tests that need them.

use std::path::PathBuf;

/// The path of `relative` under ../shared/data, or `None` (with a note) when it is missing.
///
/// # Panics
///
/// Panics when the file is missing and `CI=true`: data tests must fail, not skip, in CI.
pub(crate) fn shared_data(relative: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(relative);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing; data tests must not skip in CI",
        path.display()
    );
    eprintln!("skipping: {} is missing", path.display());
    None
}

#[path = "../../src/pipeline/transformer/fetched.rs"]
mod fetched;
pub(crate) use fetched::fetched_encoder;
