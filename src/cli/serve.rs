//! `nlpd serve` (placeholder until its issue lands).

/// Arguments of `nlpd serve`.
#[derive(Debug, clap::Args)]
pub(super) struct ServeArgs {}

/// Runs `nlpd serve`.
pub(super) fn run(_args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("`nlpd serve` is not available yet")
}
