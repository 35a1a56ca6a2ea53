//! `nlpd parse` (placeholder until its issue lands).

/// Arguments of `nlpd parse`.
#[derive(Debug, clap::Args)]
pub(super) struct ParseArgs {}

/// Which components `nlpd parse` runs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mode {
    /// Every component.
    Full,
    /// The tokenizer only.
    TokenizeOnly,
}

/// Runs `nlpd parse`.
pub(super) fn run(_args: ParseArgs, _mode: Mode) -> anyhow::Result<()> {
    anyhow::bail!("`nlpd parse` is not available yet")
}
