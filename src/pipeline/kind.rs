//! The built-in components by kind: each one's name, what it needs, and where it goes.

use std::fmt;

/// A built-in component, the one place its name is spelled.
///
/// The name is the component's section in a model file (see
/// [`model_io`](super::model_io)), its entry in the `components` request field and in
/// [`Pipeline::component_names`](super::Pipeline::component_names); the kind also lists the
/// components whose annotations it reads ([`ComponentKind::needs`]) and reads the component
/// from its section (`ComponentKind::load`, next to every section layout in `model_io`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComponentKind {
    /// A pretrained transformer encoder, which writes `trf_data` (the features the encoders
    /// of a pipeline on it read).
    Transformer,
    /// The shared encoder, which writes `Doc.tensor`.
    Tok2Vec,
    /// Fine-grained (XPOS) and universal (UPOS) part-of-speech tags.
    Tagger,
    /// Morphological features.
    Morphologizer,
    /// Lemmas, from the tags.
    Lemmatizer,
    /// Dependency heads and labels, and sentence boundaries.
    Parser,
    /// Named entities (with an encoder of its own).
    Ner,
    /// Drops the tensor and intermediate arrays; placed last.
    DocCleaner,
}

impl ComponentKind {
    /// Every kind, in the order a full pipeline runs them.
    pub const ALL: [Self; 8] = [
        Self::Transformer,
        Self::Tok2Vec,
        Self::Tagger,
        Self::Morphologizer,
        Self::Lemmatizer,
        Self::Parser,
        Self::Ner,
        Self::DocCleaner,
    ];

    /// The component's name, as used in model files, configs and requests.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Transformer => "transformer",
            Self::Tok2Vec => "tok2vec",
            Self::Tagger => "tagger",
            Self::Morphologizer => "morphologizer",
            Self::Lemmatizer => "lemmatizer",
            Self::Parser => "parser",
            Self::Ner => "ner",
            Self::DocCleaner => "doc_cleaner",
        }
    }

    /// The kind called `name`, if it is a built-in component.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The components whose annotations this one reads (run before it whenever it runs).
    pub const fn needs(self) -> &'static [ComponentKind] {
        match self {
            Self::Tagger | Self::Morphologizer | Self::Parser => &[Self::Tok2Vec],
            Self::Lemmatizer => &[Self::Tagger],
            Self::Transformer | Self::Tok2Vec | Self::Ner | Self::DocCleaner => &[],
        }
    }

    /// Whether the component stays last in a pipeline: one added to a model file later goes
    /// before it (its job is to drop what the others leave on a document).
    pub const fn runs_last(self) -> bool {
        matches!(self, Self::DocCleaner)
    }
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name, for APIs that take a section or component name.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_needs_come_earlier_in_the_order() {
        for (i, kind) in ComponentKind::ALL.into_iter().enumerate() {
            assert_eq!(ComponentKind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.to_string(), kind.name());
            for need in kind.needs() {
                let at = ComponentKind::ALL.iter().position(|k| k == need).unwrap();
                assert!(at < i, "{kind} needs {need}, which runs later");
            }
        }
        assert_eq!(ComponentKind::from_name("hooks"), None);
        // The names are section names in every shipped model file.
        let names = [
            "transformer",
            "tok2vec",
            "tagger",
            "morphologizer",
            "lemmatizer",
            "parser",
            "ner",
            "doc_cleaner",
        ];
        assert_eq!(ComponentKind::ALL.map(ComponentKind::name), names);
    }
}
