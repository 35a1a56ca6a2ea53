//! Settings of `nlpd serve`: layered configuration, validated once at boot.
//!
//! # Overview
//!
//! [`Settings::load`] stacks four layers, lowest first:
//!
//! 1. `config/default.toml`, built into the binary ([`DEFAULT_TOML`]), which holds every
//!    setting with its default;
//! 2. an optional TOML file (`--config FILE`) holding any subset of them;
//! 3. environment variables `NLPD_<SECTION>__<KEY>` (`NLPD_SERVER__LISTEN=0.0.0.0:8080`);
//! 4. command-line flags ([`FlagValue`]).
//!
//! Because the built-in layer names every setting with a value of the right type, each
//! overlay is checked against it as it is applied: an unknown setting or a value of the
//! wrong type is refused with the name of the setting and where it came from ([`Origin`]).
//! The merged table is then deserialized (`deny_unknown_fields` everywhere) and validated
//! into typed, immutable runtime values ([`ServerSettings`], [`Limits`], [`ModelSettings`],
//! [`LogSettings`]): addresses are resolved, `0` means "one per core", durations become
//! [`Duration`]s. A bad value stops start-up; it never fails a request.

mod layers;

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use layers::Layers;

/// The built-in defaults (`config/default.toml`), the lowest configuration layer.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// Prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "NLPD_";

/// The `(section, key)` an environment variable sets, if it has the form
/// `NLPD_<SECTION>__<KEY>` (`NLPD_SERVER__LISTEN` → `("server", "listen")`).
pub fn env_setting(name: &str) -> Option<(String, String)> {
    let (section, key) = name.strip_prefix(ENV_PREFIX)?.split_once("__")?;
    Some((section.to_ascii_lowercase(), key.to_ascii_lowercase()))
}

/// Where a setting's value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The built-in `config/default.toml`.
    Default,
    /// A configuration file given with `--config`.
    File(PathBuf),
    /// An environment variable, by name.
    Env(String),
    /// A command-line flag, by name (`--listen`).
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the built-in defaults"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A setting given on the command line.
#[derive(Clone, Debug)]
pub struct FlagValue {
    /// The flag, as the user typed it (`--listen`).
    pub flag: &'static str,
    /// The setting it overrides, `section.key` (`server.listen`).
    pub setting: &'static str,
    /// The raw value.
    pub value: String,
}

/// Errors raised while loading settings.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// Occurs when the `--config` file cannot be read.
    #[error("cannot read config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Occurs when the `--config` file is not valid TOML.
    #[error("config file {} is not valid TOML", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: Box<toml::de::Error>,
    },
    /// Occurs when a layer names a setting that does not exist (a typo, usually).
    #[error("unknown setting `{name}` (from {origin}); see config/default.toml for the list")]
    UnknownSetting {
        /// `section.key`, as written.
        name: String,
        /// Where it was written.
        origin: Origin,
    },
    /// Occurs when a value has the wrong type (text where a number is expected…).
    #[error("setting `{name}` (from {origin}) must be {expected}")]
    WrongType {
        /// `section.key`.
        name: String,
        /// Where the value came from.
        origin: Origin,
        /// The expected type, in words.
        expected: &'static str,
    },
    /// Occurs when a value has the right type but is out of range or malformed.
    #[error("invalid setting `{name}` (from {origin}): {reason}")]
    Invalid {
        /// `section.key`.
        name: &'static str,
        /// Where the value came from.
        origin: Origin,
        /// What is wrong with it.
        reason: String,
    },
}

/// Every setting, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `[server]`: listening and lifecycle.
    pub server: ServerSettings,
    /// `[limits]`: request sizes and concurrency.
    pub limits: Limits,
    /// `[model]`: which pipeline to load.
    pub model: ModelSettings,
    /// `[log]`: log format and filter.
    pub log: LogSettings,
}

/// `[server]` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Threads running the async reactor.
    pub worker_threads: NonZeroUsize,
    /// Longest a request may take before it is answered 504.
    pub request_timeout: Duration,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Longest a client may take to send a request's header (from connecting, or from the
    /// first byte of a later request on the same connection).
    pub header_read_timeout: Duration,
    /// Longest a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Longest wait for the next piece of a request body, or for the client to take the
    /// next piece of a response.
    pub body_timeout: Duration,
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: NonZeroUsize,
    /// Whether the analysis page (`GET /`) and `POST /render` are served.
    pub ui: bool,
}

/// `[limits]` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: NonZeroUsize,
    /// Most characters in one text.
    pub max_text_chars: NonZeroUsize,
    /// Most texts in one batch request.
    pub max_batch_texts: NonZeroUsize,
    /// Requests processed at once (NLP worker threads).
    pub concurrency: NonZeroUsize,
    /// Requests allowed to wait for a worker.
    pub queue: usize,
    /// The `Retry-After` of a 503.
    pub retry_after: Duration,
}

/// `[model]` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSettings {
    /// The model file, or `None` for the built-in pipeline.
    pub path: Option<PathBuf>,
}

/// `[log]` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    /// Line format.
    pub format: LogFormat,
    /// A valid `tracing_subscriber::EnvFilter` directive.
    pub filter: String,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for Settings {
    /// The built-in defaults, with no file, environment or flags.
    fn default() -> Self {
        Self::load(None, [], &[]).expect("the built-in defaults are valid. This is a bug.")
    }
}

impl Settings {
    /// Loads the built-in defaults, then `file`, then the `NLPD_<SECTION>__<KEY>` entries of
    /// `env`, then `flags`, and validates the result.
    ///
    /// `env` is passed in (rather than read here) so callers and tests control it; entries
    /// that do not start with [`ENV_PREFIX`] or lack a `__` are ignored.
    ///
    /// # Errors
    ///
    /// Returns an error naming the setting and its origin if the file cannot be read or
    /// parsed, a setting is unknown, or a value has the wrong type or is out of range.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &[FlagValue],
    ) -> Result<Self, ConfigError> {
        let mut layers = Layers::defaults();
        if let Some(path) = file {
            layers.overlay_file(path)?;
        }
        for (name, value) in env {
            if let Some((section, key)) = env_setting(&name) {
                layers.overlay_text(&section, &key, &value, Origin::Env(name))?;
            }
        }
        for flag in flags {
            let (section, key) = flag
                .setting
                .split_once('.')
                .expect("flag settings are `section.key`. This is a bug.");
            layers.overlay_text(section, key, &flag.value, Origin::Flag(flag.flag))?;
        }
        layers.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn with_file(toml: &str) -> Result<Settings, ConfigError> {
        let dir = std::env::temp_dir().join(format!("nlpd-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{:x}.toml", xxhash_rust::xxh3::xxh3_64(toml.as_bytes())));
        std::fs::write(&path, toml).expect("write temp config");
        Settings::load(Some(&path), [], &[])
    }

    #[test]
    fn defaults_are_valid_and_match_the_documented_values() {
        let s = Settings::default();
        assert_eq!(s.server.listen, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(s.server.shutdown_grace, Duration::from_secs(25));
        assert_eq!(s.limits.max_batch_texts.get(), 64);
        assert!(s.server.ui);
        assert_eq!(s.model.path, None);
        assert_eq!(
            s.log,
            LogSettings { format: LogFormat::Text, filter: "nlpd=info,tower_http=info".into() }
        );
    }

    #[test]
    fn layers_apply_in_order_file_env_flag() {
        let dir = std::env::temp_dir().join(format!("nlpd-config-order-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("c.toml");
        std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\nshutdown_grace_secs = 3\n[log]\nformat = \"json\"\n")
            .expect("write");
        let flags =
            [FlagValue { flag: "--listen", setting: "server.listen", value: "127.0.0.1:3".into() }];
        let s = Settings::load(
            Some(&path),
            env(&[
                ("NLPD_SERVER__LISTEN", "127.0.0.1:2"),
                ("NLPD_SERVER__SHUTDOWN_GRACE_SECS", "7"),
                ("NLPD_MODEL__PATH", "/models/en.nlpd"),
                ("NLPD_UNRELATED", "ignored: no double underscore"),
                ("PATH", "/bin"),
            ]),
            &flags,
        )
        .expect("valid");
        assert_eq!(s.server.listen.port(), 3, "flag beats env beats file");
        assert_eq!(s.server.shutdown_grace, Duration::from_secs(7), "env beats file");
        assert_eq!(s.log.format, LogFormat::Json, "file beats default");
        assert_eq!(s.model.path.as_deref(), Some(Path::new("/models/en.nlpd")));
    }

    #[test]
    fn env_names_map_to_settings() {
        let cases = [
            ("NLPD_SERVER__LISTEN", Some(("server", "listen"))),
            ("NLPD_LIMITS__MAX_BODY_BYTES", Some(("limits", "max_body_bytes"))),
            ("NLPD_LISTEN", None),
            ("PATH", None),
        ];
        for (name, expected) in cases {
            let expected = expected.map(|(s, k)| (s.to_owned(), k.to_owned()));
            assert_eq!(env_setting(name), expected, "{name}");
        }
    }

    #[test]
    fn zero_means_one_per_core() {
        let s = Settings::load(
            None,
            env(&[("NLPD_LIMITS__CONCURRENCY", "0"), ("NLPD_SERVER__WORKER_THREADS", "3")]),
            &[],
        )
        .expect("valid");
        assert_eq!(s.limits.concurrency, std::thread::available_parallelism().expect("cores"));
        assert_eq!(s.server.worker_threads.get(), 3);
    }

    #[test]
    fn the_ui_is_turned_off_by_env() {
        let s = Settings::load(None, env(&[("NLPD_SERVER__UI", "false")]), &[]).expect("valid");
        assert!(!s.server.ui);
    }

    #[test]
    fn bad_values_are_refused_with_name_and_origin() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "NLPD_SERVER__LSTEN",
                "x",
                "unknown setting `server.lsten` (from environment variable NLPD_SERVER__LSTEN)",
            ),
            ("NLPD_SERVR__LISTEN", "x", "unknown setting `servr.listen`"),
            (
                "NLPD_SERVER__LISTEN",
                "nowhere",
                "invalid setting `server.listen` (from environment variable",
            ),
            (
                "NLPD_SERVER__SHUTDOWN_GRACE_SECS",
                "soon",
                "`server.shutdown_grace_secs` (from environment variable NLPD_SERVER__SHUTDOWN_GRACE_SECS) must be an integer",
            ),
            ("NLPD_SERVER__REQUEST_TIMEOUT_SECS", "0", "must be at least 1, got 0"),
            ("NLPD_LIMITS__QUEUE", "-1", "invalid setting `limits.queue`"),
            ("NLPD_LIMITS__MAX_BODY_BYTES", "0", "invalid setting `limits.max_body_bytes`"),
            ("NLPD_LOG__FORMAT", "xml", "must be \"text\" or \"json\", got \"xml\""),
            (
                "NLPD_SERVER__UI",
                "off",
                "`server.ui` (from environment variable NLPD_SERVER__UI) must be true or false",
            ),
            ("NLPD_LOG__LEVEL", "nlpd=loud", "invalid setting `log.level`"),
        ];
        for (name, value, expected) in cases {
            let err = Settings::load(None, env(&[(name, value)]), &[]).expect_err(name).to_string();
            assert!(err.contains(expected), "{name}={value}: {err}");
        }
    }

    #[test]
    fn file_typos_and_wrong_types_are_refused() {
        let cases: &[(&str, &str)] = &[
            ("[server]\nlisen = \"127.0.0.1:1\"\n", "unknown setting `server.lisen` (from file"),
            ("[limit]\nqueue = 1\n", "unknown setting `limit.queue`"),
            ("server = 1\n", "unknown setting `server`"),
            ("[limits]\nqueue = \"many\"\n", "`limits.queue` (from file"),
            ("[limits\n", "is not valid TOML"),
        ];
        for (toml, expected) in cases {
            let err = with_file(toml).expect_err(toml).to_string();
            assert!(err.contains(expected), "{toml:?}: {err}");
        }
    }

    #[test]
    fn flags_are_named_in_errors() {
        let flags =
            [FlagValue { flag: "--log-format", setting: "log.format", value: "yaml".into() }];
        let err = Settings::load(None, [], &flags).expect_err("bad flag").to_string();
        assert!(err.contains("(from flag --log-format)"), "{err}");
    }

    #[test]
    fn missing_file_is_reported() {
        let err = Settings::load(Some(Path::new("/nonexistent/nlpd.toml")), [], &[])
            .expect_err("missing");
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }
}
