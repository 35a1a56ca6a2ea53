//! `nlpd evaluate` (placeholder until its issue lands).

/// Arguments of `nlpd evaluate`.
#[derive(Debug, clap::Args)]
pub(super) struct EvaluateArgs {}

/// Runs `nlpd evaluate`.
pub(super) fn run(_args: EvaluateArgs) -> anyhow::Result<()> {
    anyhow::bail!("`nlpd evaluate` is not available yet")
}
