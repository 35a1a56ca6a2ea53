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

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;
use toml::{Table, Value};

/// The built-in defaults (`config/default.toml`), the lowest configuration layer.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "NLPD_";

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
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Occurs when the `--config` file is not valid TOML.
    #[error("config file {} is not valid TOML: {source}", path.display())]
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
            let Some((section, key)) =
                name.strip_prefix(ENV_PREFIX).and_then(|s| s.split_once("__"))
            else {
                continue;
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            layers.overlay_text(&section, &key, &value, Origin::Env(name))?;
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

/// The merged configuration table and where each overridden value came from.
struct Layers {
    table: Table,
    origins: BTreeMap<String, Origin>,
}

impl Layers {
    fn defaults() -> Self {
        let table = DEFAULT_TOML.parse().expect("config/default.toml parses. This is a bug.");
        Self { table, origins: BTreeMap::new() }
    }

    fn current(&self, section: &str, key: &str, origin: &Origin) -> Result<&Value, ConfigError> {
        self.table.get(section).and_then(Value::as_table).and_then(|t| t.get(key)).ok_or_else(
            || ConfigError::UnknownSetting {
                name: format!("{section}.{key}"),
                origin: origin.clone(),
            },
        )
    }

    fn set(
        &mut self,
        section: &str,
        key: &str,
        value: Value,
        origin: Origin,
    ) -> Result<(), ConfigError> {
        let current = self.current(section, key, &origin)?;
        let name = format!("{section}.{key}");
        if !current.same_type(&value) {
            return Err(ConfigError::WrongType { name, origin, expected: type_name(current) });
        }
        self.table[section][key] = value;
        self.origins.insert(name, origin);
        Ok(())
    }

    fn overlay_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let table: Table = text.parse().map_err(|source| ConfigError::Syntax {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        let origin = Origin::File(path.to_owned());
        for (section, entries) in table {
            let Value::Table(entries) = entries else {
                return Err(ConfigError::UnknownSetting { name: section, origin });
            };
            for (key, value) in entries {
                self.set(&section, &key, value, origin.clone())?;
            }
        }
        Ok(())
    }

    /// Applies a textual value (environment or flag), read as the type the setting has.
    fn overlay_text(
        &mut self,
        section: &str,
        key: &str,
        raw: &str,
        origin: Origin,
    ) -> Result<(), ConfigError> {
        let current = self.current(section, key, &origin)?;
        let value = match current {
            Value::String(_) => Some(Value::String(raw.to_owned())),
            Value::Integer(_) => raw.trim().parse().ok().map(Value::Integer),
            Value::Boolean(_) => raw.trim().parse().ok().map(Value::Boolean),
            Value::Float(_) => raw.trim().parse().ok().map(Value::Float),
            Value::Datetime(_) | Value::Array(_) | Value::Table(_) => None,
        };
        match value {
            Some(value) => self.set(section, key, value, origin),
            None => Err(ConfigError::WrongType {
                name: format!("{section}.{key}"),
                origin,
                expected: type_name(current),
            }),
        }
    }

    fn origin(&self, name: &str) -> Origin {
        self.origins.get(name).cloned().unwrap_or(Origin::Default)
    }

    fn invalid(&self, name: &'static str, reason: impl fmt::Display) -> ConfigError {
        ConfigError::Invalid { name, origin: self.origin(name), reason: reason.to_string() }
    }

    /// An integer setting that must be at least `min`.
    fn at_least(&self, name: &'static str, value: i64, min: u64) -> Result<u64, ConfigError> {
        u64::try_from(value)
            .ok()
            .filter(|&v| v >= min)
            .ok_or_else(|| self.invalid(name, format!("must be at least {min}, got {value}")))
    }

    fn size(&self, name: &'static str, value: i64, min: u64) -> Result<usize, ConfigError> {
        let value = self.at_least(name, value, min)?;
        usize::try_from(value).map_err(|_| self.invalid(name, "is too large for this machine"))
    }

    fn positive(&self, name: &'static str, value: i64) -> Result<NonZeroUsize, ConfigError> {
        Ok(NonZeroUsize::new(self.size(name, value, 1)?).expect("checked to be at least 1"))
    }

    /// A count where 0 means "one per core".
    fn per_core(&self, name: &'static str, value: i64) -> Result<NonZeroUsize, ConfigError> {
        let cores = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
        Ok(NonZeroUsize::new(self.size(name, value, 0)?).unwrap_or(cores))
    }

    fn secs(&self, name: &'static str, value: i64, min: u64) -> Result<Duration, ConfigError> {
        self.at_least(name, value, min).map(Duration::from_secs)
    }

    fn validate(self) -> Result<Settings, ConfigError> {
        let raw: RawSettings = Value::Table(self.table.clone()).try_into().map_err(|err| {
            self.invalid("settings", format!("{err} (config/default.toml and the loader disagree)"))
        })?;
        let RawSettings { server, limits, model, log } = raw;
        let listen = server
            .listen
            .to_socket_addrs()
            .map_err(|err| {
                self.invalid(
                    "server.listen",
                    format!("`{}` is not HOST:PORT: {err}", server.listen),
                )
            })?
            .next()
            .ok_or_else(|| {
                self.invalid("server.listen", format!("`{}` resolves to no address", server.listen))
            })?;
        let format = match log.format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(self.invalid(
                    "log.format",
                    format!("must be \"text\" or \"json\", got {other:?}"),
                ));
            }
        };
        tracing_subscriber::EnvFilter::try_new(&log.level).map_err(|err| {
            self.invalid("log.level", format!("{:?} is not a filter directive: {err}", log.level))
        })?;
        Ok(Settings {
            server: ServerSettings {
                listen,
                worker_threads: self.per_core("server.worker_threads", server.worker_threads)?,
                request_timeout: self.secs(
                    "server.request_timeout_secs",
                    server.request_timeout_secs,
                    1,
                )?,
                shutdown_grace: self.secs(
                    "server.shutdown_grace_secs",
                    server.shutdown_grace_secs,
                    0,
                )?,
            },
            limits: Limits {
                max_body_bytes: self.positive("limits.max_body_bytes", limits.max_body_bytes)?,
                max_text_chars: self.positive("limits.max_text_chars", limits.max_text_chars)?,
                max_batch_texts: self.positive("limits.max_batch_texts", limits.max_batch_texts)?,
                concurrency: self.per_core("limits.concurrency", limits.concurrency)?,
                queue: self.size("limits.queue", limits.queue, 0)?,
                retry_after: self.secs("limits.retry_after_secs", limits.retry_after_secs, 1)?,
            },
            model: ModelSettings {
                path: (!model.path.is_empty()).then(|| PathBuf::from(model.path)),
            },
            log: LogSettings { format, filter: log.level },
        })
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

// The raw, unvalidated shape of config/default.toml. Integers stay `i64` (TOML's own type)
// so that range errors are reported by `Layers` with the setting's name and origin.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    server: RawServer,
    limits: RawLimits,
    model: RawModel,
    log: RawLog,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: String,
    worker_threads: i64,
    request_timeout_secs: i64,
    shutdown_grace_secs: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: i64,
    max_text_chars: i64,
    max_batch_texts: i64,
    concurrency: i64,
    queue: i64,
    retry_after_secs: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: String,
    level: String,
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
    fn raw_structs_deny_unknown_fields() {
        let mut table: Table = DEFAULT_TOML.parse().expect("parses");
        table["server"].as_table_mut().expect("table").insert("extra".into(), Value::Integer(1));
        let err = Value::Table(table).try_into::<RawSettings>().err().expect("refused");
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn missing_file_is_reported() {
        let err = Settings::load(Some(Path::new("/nonexistent/nlpd.toml")), [], &[])
            .expect_err("missing");
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }
}
