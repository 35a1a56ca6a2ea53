//! Test support shared by the library's unit tests and the API tests (which include this
//! file by path): where `scripts/fetch-encoder.sh` put the pretrained encoder.

use std::path::PathBuf;

/// The directory `scripts/fetch-encoder.sh` fills (`$NLPD_ENCODER_DIR`, else
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
