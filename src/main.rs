//! The `nlpd` command line: see `nlpd --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    nlpd::cli::run()
}
