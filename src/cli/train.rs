//! `nlpd train` (placeholder until its issue lands).

/// Arguments of `nlpd train`.
#[derive(Debug, clap::Args)]
pub(super) struct TrainArgs {}

/// Runs `nlpd train`.
pub(super) fn run(_args: TrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("`nlpd train` is not available yet")
}
