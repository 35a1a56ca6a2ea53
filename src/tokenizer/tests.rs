//! Tests of the whole tokenizer: English cases, whitespace, and round-trips of any text.
//! (Kept out of `mod.rs` because the case table is long.)

use proptest::prelude::*;

use super::Tokenizer;
use crate::vocab::{LexFlags, Vocab};

/// The words of `text` separated by spaces, with `|` between the words of one surface
/// token and whitespace tokens left out.
fn render(text: &str) -> String {
    let tokenizer = Tokenizer::english();
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let doc = tokenizer.tokenize(&zone, text);
    let mut out = String::new();
    for token in doc.iter().filter(|t| !t.lex().is(LexFlags::IS_SPACE)) {
        out.push_str(token.text());
        out.push(if token.data().fused_with_next() { '|' } else { ' ' });
    }
    out.pop();
    out
}

/// Concatenates every token's text and trailing space.
fn round_trip(tokenizer: &Tokenizer, text: &str) -> String {
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let doc = tokenizer.tokenize(&zone, text);
    doc.iter().map(|t| format!("{}{}", t.text(), t.whitespace())).collect()
}

#[test]
fn english_sentences_follow_ewt() {
    let cases = [
        // Contractions and possessives are one surface token of two words.
        ("I don't think so.", "I do|n't think so ."),
        ("We can't, won't and shouldn't.", "We ca|n't , wo|n't and should|n't ."),
        ("DON'T PANIC", "DO|N'T PANIC"),
        ("I'm sure you're right, they'll see.", "I|'m sure you|'re right , they|'ll see ."),
        ("I've been told she'd left.", "I|'ve been told she|'d left ."),
        ("It's Google's problem, not the parents'.", "It|'s Google|'s problem , not the parents|' ."),
        ("That’s Bush’s idea; it didn’t work.", "That|’s Bush|’s idea ; it did|n’t work ."),
        ("The '80s and the 1990's", "The '80s and the 1990's"),
        ("Let's go!", "Let|'s go !"),
        ("He OK'd it at 5 o'clock.", "He OK'd it at 5 o'clock ."),
        // Contractions without an apostrophe.
        ("i dont know, im tired and cant sleep", "i do|nt know , i|m tired and ca|nt sleep"),
        ("Im gonna call, wanna come?", "I|m gon|na call , wan|na come ?"),
        ("You cannot be serious. I dunno.", "You can|not be serious . I du|n|no ."),
        ("Its raining but its roof holds", "Its raining but its roof holds"),
        ("its a pity, its not its fault", "it|s a pity , it|s not its fault"),
        // Abbreviations and initials.
        ("Dr. Smith met Mr. Jones in the U.S. on Sept. 5.", "Dr. Smith met Mr. Jones in the U.S. on Sept. 5 ."),
        ("Bring pens, paper, etc. to the 9 a.m. class.", "Bring pens , paper , etc. to the 9 a.m. class ."),
        ("George W. Bush lives in the U.S..", "George W. Bush lives in the U.S. ."),
        ("Plan B.", "Plan B ."),
        ("(i.e. the end)", "( i.e. the end )"),
        // Punctuation and quotes.
        ("\"Hello,\" she said.", "\" Hello , \" she said ."),
        ("“Really?!” he asked...", "“ Really ?! ” he asked ..."),
        ("'Normal' people", "' Normal ' people"),
        ("Wait...what?!!", "Wait ... what ?!!"),
        ("(see above) [sic] {x}", "( see above ) [ sic ] { x }"),
        ("He said -- and I quote -- no.", "He said -- and I quote -- no ."),
        ("<<file.doc>>", "<< file.doc >>"),
        ("Great!!! :) ;-)", "Great !!! :) ;-)"),
        ("I love it :).", "I love it :) ."),
        // Numbers, currency and units.
        ("It cost $5.50, or 20% less.", "It cost $ 5.50 , or 20 % less ."),
        ("Meet at 7:30PM or 5pm, 3.5km away.", "Meet at 7:30 PM or 5 pm , 3.5 km away ."),
        ("1,000,000 people in 1969-1970", "1,000,000 people in 1969 - 1970"),
        ("the 21st century, €20 and £3", "the 21st century , € 20 and £ 3"),
        ("Call 713-853-3989 or (713) 646-3393.", "Call 713-853-3989 or ( 713 ) 646-3393 ."),
        ("Due 11/28/2000 or 9/11, half is 1/2", "Due 11/28/2000 or 9/11 , half is 1 / 2"),
        ("#3 on the list, -5 degrees", "# 3 on the list , - 5 degrees"),
        // Hyphens and slashes.
        ("a well-known e-mail from a non-profit", "a well - known e-mail from a non-profit"),
        ("a 26-year-old self-employed man", "a 26 - year - old self - employed man"),
        ("and/or he/she w/o b/c", "and / or he / she w/o b/c"),
        // URLs, e-mail, handles and hashtags.
        (
            "See http://www.example.com/a_b.html?x=1&y=2.",
            "See http://www.example.com/a_b.html?x=1&y=2 .",
        ),
        ("Mail jane.doe@example.com (or Rice@ENRON).", "Mail jane.doe@example.com ( or Rice@ENRON ) ."),
        ("Visit www.nlpd.org, google.com or bbc.co.uk!", "Visit www.nlpd.org , google.com or bbc.co.uk !"),
        ("Thanks @Ryan! #blessed", "Thanks @Ryan ! #blessed"),
        ("Open Lisa_resume.doc now", "Open Lisa_resume.doc now"),
        // Words run together with punctuation.
        ("this,that and end.The", "this , that and end . The"),
        ("account(s) and the U.S.A", "account ( s ) and the U.S.A"),
        ("(See file: a.pdf)(See b.doc)", "( See file : a.pdf ) ( See b.doc )"),
        ("Call (989)755-1109 now", "Call ( 989 ) 755-1109 now"),
        ("ab😀cd and x–y", "ab 😀 cd and x – y"),
        ("Fax:? none <> here", "Fax :? none < > here"),
        ("Write to franz371...@gmail.com", "Write to franz371...@gmail.com"),
    ];
    for (text, expected) in cases {
        assert_eq!(render(text), expected, "{text:?}");
    }
}

#[test]
fn whitespace_follows_spacy() {
    let tokenizer = Tokenizer::english();
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let text = "  Hi there,\n\tworld  !\u{a0}x ";
    let doc = tokenizer.tokenize(&zone, text);
    let got: Vec<_> = doc.iter().map(|t| (t.text(), t.whitespace())).collect();
    let expected = [
        ("  ", ""),
        ("Hi", " "),
        ("there", ""),
        (",", ""),
        ("\n\t", ""),
        ("world", " "),
        (" ", ""),
        ("!", ""),
        ("\u{a0}", ""),
        ("x", " "),
    ];
    assert_eq!(got, expected);
    for token in doc.iter() {
        let blank = token.text().chars().all(char::is_whitespace);
        assert_eq!(token.lex().is(LexFlags::IS_SPACE), blank, "{:?}", token.text());
    }
}

#[test]
fn empty_and_blank_texts() {
    let tokenizer = Tokenizer::english();
    for text in ["", " ", "\n", "   ", " \u{3000} "] {
        assert_eq!(round_trip(&tokenizer, text), text, "{text:?}");
    }
    assert_eq!(render(""), "");
}

#[test]
fn long_runs_round_trip() {
    let tokenizer = Tokenizer::english();
    let units = ["a", "a-", "(", ")", ".", "!?", "'s", "1,", "a.", "-", "x/", "é\u{301}", "😀", "\0"];
    for unit in units {
        let text = unit.repeat(200_000 / unit.len());
        assert_eq!(round_trip(&tokenizer, &text), text, "run of {unit:?}");
    }
}

/// Characters the rules care about, mixed with arbitrary ones.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        4 => prop::sample::select(vec![
            ' ', ' ', '\n', '\t', '\r', '\0', '\u{b}', '\u{85}', '\u{a0}', '\u{2028}', '\u{3000}',
            '\'', '’', '`', '"', '“', '”', '(', ')', '[', ']', '<', '>', '.', ',', ';', ':', '!',
            '?', '…', '-', '–', '—', '/', '@', '#', '$', '€', '%', '&', '+', '*', '_', '=',
            '\u{301}', '\u{200d}', '\u{200f}', 'א', 'ب', '😀', '👍', 'ß', 'İ', 'é',
        ]),
        6 => prop::sample::select(vec!['a', 'e', 'n', 's', 't', 'I', 'D', 'U', 'S', 'm', '1', '5', '0']),
    ]
}

proptest! {
    #[test]
    fn any_text_round_trips(chars in prop::collection::vec(interesting_char(), 0..200)) {
        let text: String = chars.into_iter().collect();
        let tokenizer = Tokenizer::english();
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = tokenizer.tokenize(&zone, &text);
        let mut rebuilt = String::new();
        for (i, token) in doc.iter().enumerate() {
            prop_assert!(!token.text().is_empty());
            prop_assert_eq!(token.span().bytes().start, rebuilt.len());
            let blank = token.text().chars().all(char::is_whitespace);
            let any_space = token.text().chars().any(char::is_whitespace);
            prop_assert_eq!(blank, any_space, "token {:?} mixes whitespace", token.text());
            prop_assert_eq!(token.lex().is(LexFlags::IS_SPACE), blank);
            if token.data().fused_with_next() {
                prop_assert!(token.whitespace().is_empty() && i + 1 < doc.len());
            }
            rebuilt.push_str(token.text());
            rebuilt.push_str(token.whitespace());
        }
        prop_assert_eq!(rebuilt, text);
    }

    #[test]
    fn arbitrary_strings_round_trip(text in any::<String>()) {
        prop_assert_eq!(round_trip(&Tokenizer::english(), &text), text);
    }
}
