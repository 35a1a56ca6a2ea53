//! English word lists behind the lexical attributes: norms, punctuation classes, number
//! words, top-level domains and stop words. Lists that are binary-searched are sorted by
//! bytes (a unit test checks it).

/// Norms that differ from the lowercase form: contraction parts, curly quotes and dashes.
#[rustfmt::skip]
pub(super) const NORM_EXCEPTIONS: &[(&str, &str)] = &[
    ("n't", "not"),
    ("nt", "not"),
    ("n’t", "not"),
    ("'re", "are"),
    ("’re", "are"),
    ("'ve", "have"),
    ("’ve", "have"),
    ("'ll", "will"),
    ("’ll", "will"),
    ("'m", "am"),
    ("’m", "am"),
    ("'s", "'s"),
    ("’s", "'s"),
    ("'d", "'d"),
    ("’d", "'d"),
    ("ca", "can"),
    ("wo", "will"),
    ("sha", "shall"),
    ("gon", "going"),
    ("na", "to"),
    ("u", "you"),
    ("ur", "your"),
    ("‘", "'"),
    ("’", "'"),
    ("“", "\""),
    ("”", "\""),
    ("``", "\""),
    ("''", "\""),
    ("—", "--"),
    ("–", "--"),
];

/// Opening punctuation marks.
#[rustfmt::skip]
pub(super) const LEFT_PUNCT: &[&str] = &[
    "(", "[", "{", "<", "\"", "'", "«", "‘", "‚", "‛", "“", "„", "‟", "‹", "``",
];

/// Closing punctuation marks.
#[rustfmt::skip]
pub(super) const RIGHT_PUNCT: &[&str] = &[
    ")", "]", "}", ">", "\"", "'", "»", "’", "”", "›", "''",
];

/// Brackets.
#[rustfmt::skip]
pub(super) const BRACKETS: &[&str] = &[
    "(", ")", "[", "]", "{", "}", "<", ">",
];

/// Quotation marks.
#[rustfmt::skip]
pub(super) const QUOTES: &[&str] = &[
    "\"", "'", "`", "``", "''", "«", "»", "‘", "’", "‚", "‛", "“", "”", "„", "‟", "‹", "›",
];

/// Cardinal number words, sorted (binary-searched).
#[rustfmt::skip]
pub(super) const NUMBER_WORDS: &[&str] = &[
    "billion", "eight", "eighteen", "eighty", "eleven", "fifteen", "fifty", "five", "forty",
    "four", "fourteen", "hundred", "million", "nine", "nineteen", "ninety", "one", "seven",
    "seventeen", "seventy", "six", "sixteen", "sixty", "ten", "thirteen", "thirty", "thousand",
    "three", "trillion", "twelve", "twenty", "two", "zero",
];

/// Ordinal number words, sorted (binary-searched).
#[rustfmt::skip]
pub(super) const ORDINAL_WORDS: &[&str] = &[
    "eighteenth", "eighth", "eleventh", "fifteenth", "fifth", "first", "fourteenth", "fourth",
    "hundredth", "millionth", "ninth", "second", "seventh", "sixth", "tenth", "third",
    "thirteenth", "thousandth", "twelfth", "twentieth",
];

/// Top-level domains that make "name.tld" look like a URL.
#[rustfmt::skip]
pub(super) const URL_TLDS: &[&str] = &[
    "au", "biz", "ca", "co", "com", "de", "edu", "eu", "fr", "gov", "in", "info", "io", "it",
    "jp", "me", "mil", "net", "nl", "org", "ru", "tv", "uk", "us",
];

/// English stop words, sorted (binary-searched).
#[rustfmt::skip]
pub(super) const STOP_WORDS: &[&str] = &[
    "'d", "'ll", "'m", "'re", "'s", "'ve", "a", "about", "above", "across", "after",
    "afterwards", "again", "against", "all", "almost", "alone", "along", "already", "also",
    "although", "always", "am", "among", "amongst", "an", "and", "another", "any", "anyhow",
    "anyone", "anything", "anyway", "anywhere", "are", "around", "as", "at", "back", "be",
    "became", "because", "become", "becomes", "becoming", "been", "before", "beforehand",
    "behind", "being", "below", "beside", "besides", "between", "beyond", "both", "but", "by",
    "ca", "can", "cannot", "could", "did", "do", "does", "doing", "done", "down", "due",
    "during", "each", "either", "else", "elsewhere", "enough", "even", "ever", "every",
    "everyone", "everything", "everywhere", "except", "few", "for", "former", "formerly",
    "from", "further", "had", "has", "have", "he", "hence", "her", "here", "hereafter",
    "hereby", "herein", "hers", "herself", "him", "himself", "his", "how", "however", "i", "if",
    "in", "indeed", "into", "is", "it", "its", "itself", "just", "last", "latter", "least",
    "less", "made", "make", "many", "may", "me", "meanwhile", "might", "mine", "more",
    "moreover", "most", "mostly", "much", "must", "my", "myself", "n't", "namely", "neither",
    "never", "nevertheless", "next", "no", "nobody", "none", "noone", "nor", "not", "nothing",
    "now", "nowhere", "of", "off", "often", "on", "once", "only", "onto", "or", "other",
    "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own", "per", "perhaps",
    "please", "put", "quite", "rather", "re", "really", "regarding", "same", "say", "see",
    "seem", "seemed", "seeming", "seems", "several", "she", "should", "show", "since", "so",
    "some", "somehow", "someone", "something", "sometime", "sometimes", "somewhere", "still",
    "such", "than", "that", "the", "their", "them", "themselves", "then", "thence", "there",
    "thereafter", "thereby", "therefore", "therein", "thereupon", "these", "they", "this",
    "those", "though", "through", "throughout", "thru", "thus", "to", "together", "too",
    "toward", "towards", "under", "unless", "until", "up", "upon", "us", "used", "using",
    "various", "very", "via", "was", "we", "well", "were", "what", "whatever", "when", "whence",
    "whenever", "where", "whereafter", "whereas", "whereby", "wherein", "whereupon", "wherever",
    "whether", "which", "while", "whither", "who", "whoever", "whole", "whom", "whose", "why",
    "will", "with", "within", "without", "would", "yet", "you", "your", "yours", "yourself",
    "yourselves", "‘d", "‘ll", "‘m", "‘re", "‘s", "‘ve", "’d", "’ll", "’m", "’re", "’s", "’ve",
];
