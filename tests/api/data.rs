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

/// The encoder directory scripts/fetch-encoder.sh fills (`$NLPD_ENCODER_DIR`, else
/// `$HOME/.cache/nlpd/all-minilm-l6-v2`), or `None` (with a note) when it lacks the encoder.
///
/// # Panics
///
/// Panics when the encoder is missing and `CI=true`: encoder tests must fail, not skip, in
/// CI (run scripts/fetch-encoder.sh first).
pub(crate) fn fetched_encoder() -> Option<PathBuf> {
    let dir = std::env::var_os("NLPD_ENCODER_DIR").map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".cache/nlpd/all-minilm-l6-v2"))
    })?;
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "no encoder in {}; run scripts/fetch-encoder.sh (encoder tests must not skip in CI)",
        dir.display()
    );
    eprintln!("skipping: no encoder in {} (scripts/fetch-encoder.sh)", dir.display());
    None
}
