//! Merging the configuration layers and validating the result (see the [parent](super)).

use std::collections::BTreeMap;
use std::fmt;
use std::net::ToSocketAddrs;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::{Table, Value};

use super::{
    ConfigError, DEFAULT_TOML, Limits, LogFormat, LogSettings, ModelSettings, Origin,
    ServerSettings, Settings,
};

/// The merged configuration table and where each overridden value came from.
pub(super) struct Layers {
    table: Table,
    origins: BTreeMap<String, Origin>,
}

impl Layers {
    pub(super) fn defaults() -> Self {
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

    pub(super) fn overlay_file(&mut self, path: &Path) -> Result<(), ConfigError> {
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
    pub(super) fn overlay_text(
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

    pub(super) fn validate(self) -> Result<Settings, ConfigError> {
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
                header_read_timeout: self.secs(
                    "server.header_read_timeout_secs",
                    server.header_read_timeout_secs,
                    1,
                )?,
                idle_timeout: self.secs("server.idle_timeout_secs", server.idle_timeout_secs, 1)?,
                body_timeout: self.secs("server.body_timeout_secs", server.body_timeout_secs, 1)?,
                max_connections: self.positive("server.max_connections", server.max_connections)?,
                ui: server.ui,
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
    header_read_timeout_secs: i64,
    idle_timeout_secs: i64,
    body_timeout_secs: i64,
    max_connections: i64,
    ui: bool,
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

    #[test]
    fn raw_structs_deny_unknown_fields() {
        let mut table: Table = DEFAULT_TOML.parse().expect("parses");
        table["server"].as_table_mut().expect("table").insert("extra".into(), Value::Integer(1));
        let err = Value::Table(table).try_into::<RawSettings>().err().expect("refused");
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }
}
