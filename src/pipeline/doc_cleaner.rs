//! `doc_cleaner`: drops intermediate arrays once every component has read them.
//!
//! # Overview
//!
//! Placed last, [`DocCleaner`] clears what its [`DocCleanerConfig`] lists, by default
//! `Doc.tensor` and every named intermediate array, so Docs kept by a caller hold only
//! their annotations. Cleared tensors leave the global tensor-bytes gauge at once.

use serde::{Deserialize, Serialize};

use super::{Component, ComponentError, ComponentKind};
use crate::doc::Doc;

/// One thing the cleaner clears.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanTarget {
    /// `Doc.tensor`.
    Tensor,
    /// Every named intermediate array.
    AllUserData,
    /// The named intermediate array with this name.
    UserData(String),
}

/// What the cleaner clears.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocCleanerConfig {
    /// The targets, cleared in order.
    pub clear: Vec<CleanTarget>,
}

impl Default for DocCleanerConfig {
    fn default() -> Self {
        Self { clear: vec![CleanTarget::Tensor, CleanTarget::AllUserData] }
    }
}

/// The doc_cleaner component. See the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocCleaner {
    config: DocCleanerConfig,
}

impl DocCleaner {
    /// A cleaner with the given configuration.
    pub fn new(config: DocCleanerConfig) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &DocCleanerConfig {
        &self.config
    }
}

impl Component for DocCleaner {
    fn name(&self) -> &'static str {
        ComponentKind::DocCleaner.name()
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        for target in &self.config.clear {
            match target {
                CleanTarget::Tensor => doc.set_tensor(None),
                CleanTarget::AllUserData => doc.user_data_mut().clear(),
                CleanTarget::UserData(name) => drop(doc.user_data_mut().remove(name)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Tensor;
    use crate::vocab::Vocab;

    #[test]
    fn clears_exactly_the_configured_targets() {
        let cases = [
            (DocCleanerConfig::default(), false, Vec::<&str>::new()),
            (DocCleanerConfig { clear: vec![CleanTarget::Tensor] }, false, vec!["a", "b"]),
            (DocCleanerConfig { clear: vec![CleanTarget::UserData("a".into())] }, true, vec!["b"]),
            (DocCleanerConfig { clear: Vec::new() }, true, vec!["a", "b"]),
        ];
        let vocab = Vocab::new();
        let zone = vocab.zone();
        for (config, tensor_left, arrays_left) in cases {
            let mut doc = Doc::from_words(&zone, &["x"], &[false]);
            doc.set_tensor(Some(Tensor::zeros(1, 4)));
            for name in ["a", "b"] {
                doc.user_data_mut().insert(name.into(), Tensor::zeros(1, 2));
            }
            DocCleaner::new(config.clone()).process(&mut doc).unwrap();
            assert_eq!(doc.tensor().is_some(), tensor_left, "{config:?}");
            assert_eq!(doc.user_data().keys().map(String::as_str).collect::<Vec<_>>(), arrays_left);
        }
    }

    #[test]
    fn config_rejects_unknown_fields_and_targets() {
        let ok: DocCleanerConfig =
            toml::from_str(r#"clear = ["tensor", { user_data = "x" }]"#).unwrap();
        assert_eq!(ok.clear, [CleanTarget::Tensor, CleanTarget::UserData("x".into())]);
        assert!(toml::from_str::<DocCleanerConfig>(r#"claer = ["tensor"]"#).is_err());
        assert!(toml::from_str::<DocCleanerConfig>(r#"clear = ["tensors"]"#).is_err());
    }
}
