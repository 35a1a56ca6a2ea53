//! Spans of tokens and of text.

use std::ops::Range;

use crate::vocab::StringKey;

/// A half-open range of token indices `[start, end)` with an optional label (sentences have
/// none, entities their type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    start: usize,
    end: usize,
    label: Option<StringKey>,
}

impl Span {
    /// The tokens `[start, end)`.
    ///
    /// # Panics
    ///
    /// Panics if `start > end`.
    pub fn new(start: usize, end: usize) -> Self {
        assert!(start <= end, "span start {start} is past its end {end}");
        Self { start, end, label: None }
    }

    /// The same span with a label.
    #[must_use]
    pub fn with_label(self, label: StringKey) -> Self {
        Self { label: Some(label), ..self }
    }

    /// First token index.
    pub fn start(&self) -> usize {
        self.start
    }

    /// One past the last token index.
    pub fn end(&self) -> usize {
        self.end
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span holds no token.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The label, if any.
    pub fn label(&self) -> Option<StringKey> {
        self.label
    }

    /// The token indices as a range.
    pub fn tokens(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// Where a piece of text lies in its document, in UTF-8 bytes and in characters (Unicode
/// scalar values, as Python and spaCy count them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TextSpan {
    /// Byte offset of the first byte.
    pub byte_start: usize,
    /// Byte offset one past the last byte.
    pub byte_end: usize,
    /// Character offset of the first character.
    pub char_start: usize,
    /// Character offset one past the last character.
    pub char_end: usize,
}

impl TextSpan {
    /// The byte range, for slicing the document text.
    pub fn bytes(&self) -> Range<usize> {
        self.byte_start..self.byte_end
    }

    /// The character range.
    pub fn chars(&self) -> Range<usize> {
        self.char_start..self.char_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "past its end")]
    fn span_rejects_reversed_bounds() {
        let _ = Span::new(3, 2);
    }

    #[test]
    fn span_accessors() {
        let span = Span::new(2, 5).with_label(StringKey::of("PER"));
        assert_eq!((span.len(), span.tokens()), (3, 2..5));
        assert_eq!(span.label(), Some(StringKey::of("PER")));
        assert!(Span::new(1, 1).is_empty());
    }
}
