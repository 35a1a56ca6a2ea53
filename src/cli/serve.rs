//! `nlpd serve`: run the HTTP service.
//!
//! Settings come from the built-in `config/default.toml`, then `--config FILE`, then
//! `NLPD_<SECTION>__<KEY>` environment variables, then the flags below (see
//! [`crate::config`]). The pipeline is loaded before the server binds; the server then logs
//! one `listening` event whose `addr` field is the bound address (useful with port 0), and
//! runs until SIGTERM or Ctrl-C, after which it drains and exits 0.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::config::{self, FlagValue, Settings};
use crate::pipeline::Precision;
use crate::service::{self, AppState};
use crate::telemetry;

/// Arguments of `nlpd serve`.
#[derive(Debug, clap::Args)]
pub(super) struct ServeArgs {
    /// Address to listen on [config: server.listen, default 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// TOML file overlaying the built-in defaults (any subset of config/default.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Model file to load [config: model.path, default: the built-in pipeline].
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
    /// Log line format, text or json [config: log.format, default text].
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Log filter, e.g. info or nlpd=debug,tower_http=info [config: log.level].
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
}

impl ServeArgs {
    /// The config file and the flags that were given, as the top configuration layer.
    fn into_layers(self) -> (Option<PathBuf>, Vec<FlagValue>) {
        let model = self.model.map(|path| path.to_string_lossy().into_owned());
        let flags = [
            ("--listen", "server.listen", self.listen),
            ("--model", "model.path", model),
            ("--log-format", "log.format", self.log_format),
            ("--log-level", "log.level", self.log_level),
        ]
        .into_iter()
        .filter_map(|(flag, setting, value)| Some(FlagValue { flag, setting, value: value? }))
        .collect();
        (self.config, flags)
    }
}

/// Runs `nlpd serve`.
pub(super) fn run(args: ServeArgs) -> anyhow::Result<()> {
    let env = super::process_env();
    let (config_file, flags) = args.into_layers();
    let settings = Settings::load(config_file.as_deref(), env.iter().cloned(), &flags)
        .context("invalid configuration")?;
    telemetry::init_logging(&settings.log).context("cannot set up logging")?;
    for (name, _) in &env {
        if name.starts_with(config::ENV_PREFIX) && config::env_setting(name).is_none() {
            tracing::warn!(%name, "ignored: settings are named NLPD_<SECTION>__<KEY>");
        }
    }
    let pipeline = super::load_pipeline(settings.model.path.as_deref(), Precision::default())?;
    tracing::info!(?pipeline, "pipeline loaded");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.server.worker_threads.get())
        .thread_name("nlpd-io")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async move {
        let listen = settings.server.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let state = AppState::new(pipeline, settings);
        service::serve(listener, state, service::signal()).await.context("server failed")
    });
    // Do not wait on leftovers after the grace period: connections still open are dropped
    // with the runtime, and NLP jobs on the worker threads end with the process.
    runtime.shutdown_timeout(ABANDON_AFTER);
    served
}

/// How long the runtime waits for leftover blocking work once the server has returned.
const ABANDON_AFTER: Duration = Duration::from_millis(500);
