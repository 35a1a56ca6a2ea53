//! `nlpd` command-line tests: they run the real binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::data::{fetched_encoder, shared_data};

/// What a run of `nlpd` printed and how it ended.
struct Run {
    stdout: String,
    stderr: String,
    success: bool,
}

/// Runs `nlpd args…` with `stdin` as standard input.
fn nlpd(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nlpd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the nlpd binary runs");
    // A run refused for its arguments may exit before reading its input.
    match child.stdin.take().expect("piped stdin").write_all(stdin) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.expect("writing stdin"),
    }
    let Output { stdout, stderr, status } = child.wait_with_output().expect("nlpd finishes");
    Run {
        stdout: String::from_utf8(stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(stderr).expect("UTF-8 messages"),
        success: status.success(),
    }
}

/// Runs `nlpd` and expects success.
fn nlpd_ok(args: &[&str], stdin: &[u8]) -> String {
    let run = nlpd(args, stdin);
    assert!(run.success, "nlpd {args:?} failed: {}", run.stderr);
    run.stdout
}

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    path.to_str().expect("UTF-8 path").to_owned()
}

/// A file in a fresh temporary directory (removed when the returned guard drops).
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nlpd-cli-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("temp file");
        Self { dir, path }
    }

    fn path(&self) -> &str {
        self.path.to_str().expect("UTF-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `text` of each document of a JSON array or of JSON lines.
fn texts(docs: &[Value]) -> Vec<&str> {
    docs.iter().map(|doc| doc["text"].as_str().expect("a text field")).collect()
}

fn json_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON document per line"))
        .collect()
}

#[test]
fn text_input_is_one_document_per_file_or_stdin() {
    let stdin = nlpd_ok(&["tokenize"], b"Hello, world!\nSecond line.\n");
    let docs: Vec<Value> = serde_json::from_str(&stdin).expect("a JSON array");
    assert_eq!(texts(&docs), ["Hello, world!\nSecond line.\n"]);

    let (a, b) = (TempFile::new("a.txt", b"First file."), TempFile::new("b.txt", b"Second file."));
    let docs: Vec<Value> =
        serde_json::from_str(&nlpd_ok(&["tokenize", a.path(), "-", b.path()], b"From stdin."))
            .expect("a JSON array");
    assert_eq!(texts(&docs), ["First file.", "From stdin.", "Second file."]);
}

#[test]
fn tokens_carry_spacy_offsets_and_reproduce_the_text() {
    let text = "Zoë didn't pay $5.";
    let docs: Vec<Value> = serde_json::from_str(&nlpd_ok(&["tokenize"], text.as_bytes())).unwrap();
    let tokens = docs[0]["tokens"].as_array().expect("tokens");
    let chars: Vec<char> = text.chars().collect();
    let mut rebuilt = String::new();
    for (i, token) in tokens.iter().enumerate() {
        assert_eq!(token["id"], i);
        let (start, end) = (token["start"].as_u64().unwrap(), token["end"].as_u64().unwrap());
        let span: String = chars[start as usize..end as usize].iter().collect();
        assert_eq!(token["text"], span.as_str(), "character offsets");
        rebuilt.push_str(&span);
        rebuilt.push_str(token["whitespace"].as_str().unwrap());
    }
    assert_eq!(rebuilt, text);
    assert!(tokens[0].get("tag").is_none(), "no tagger ran, so no tag field");
}

#[test]
fn lines_input_gives_one_document_per_line() {
    let docs = json_lines(&nlpd_ok(
        &["tokenize", "--input", "lines", "--output", "jsonl"],
        b"One line.\r\n\nThird line.\n",
    ));
    assert_eq!(texts(&docs), ["One line.", "", "Third line."]);
    assert_eq!(docs[1]["tokens"], Value::Array(vec![]));
    assert_eq!(nlpd_ok(&["tokenize", "--input", "lines"], b""), "[]\n", "no documents");
}

#[test]
fn jsonl_input_reads_the_text_field() {
    let input = br#"{"text": "Ask Ivo.", "id": 7}

{"text": "Caf\u00e9 time"}
"#;
    let docs = json_lines(&nlpd_ok(&["tokenize", "--input", "jsonl", "--output", "jsonl"], input));
    assert_eq!(texts(&docs), ["Ask Ivo.", "Café time"]);
}

#[test]
fn text_to_conllu_marks_documents_and_spacing() {
    let output =
        nlpd_ok(&["tokenize", "--input", "lines", "--output", "conllu"], b"We can't stop.\nOk!\n");
    insta::assert_snapshot!(output);
}

#[test]
fn conllu_input_keeps_the_given_words_and_drops_gold_annotations() {
    let gold = fixture("gold.conllu");
    let words_only = nlpd_ok(&["tokenize", "--input", "conllu", "--output", "conllu", &gold], b"");
    insta::assert_snapshot!("conllu_words_only", words_only);
    // `parse` re-annotates the same words: its FORM column is the tokenizer's.
    let parsed = nlpd_ok(&["parse", "--input", "conllu", "--output", "conllu", &gold], b"");
    let forms = |conllu: &str| -> Vec<String> {
        conllu.lines().filter_map(|l| l.split('\t').nth(1)).map(str::to_owned).collect()
    };
    assert_eq!(forms(&parsed), forms(&words_only));
    let docs: Vec<Value> =
        serde_json::from_str(&nlpd_ok(&["tokenize", "--input", "conllu", &gold], b"")).unwrap();
    assert_eq!(docs.len(), 2, "one document per # newdoc");
    let sents: Vec<(u64, u64)> = docs[0]["sents"]
        .as_array()
        .expect("given sentences")
        .iter()
        .map(|s| (s["start_token"].as_u64().unwrap(), s["end_token"].as_u64().unwrap()))
        .collect();
    assert_eq!(sents, [(0, 10), (10, 15)]);
}

#[test]
fn conllu_output_of_conllu_input_scores_perfect_tokens() {
    let gold = fixture("gold.conllu");
    let words = TempFile::new(
        "words.conllu",
        nlpd_ok(&["tokenize", "--input", "conllu", "--output", "conllu", &gold], b"").as_bytes(),
    );
    let report: Value = serde_json::from_str(&nlpd_ok(
        &["evaluate", "--gold", &gold, "--system", words.path(), "--json"],
        b"",
    ))
    .unwrap();
    for metric in ["Tokens", "Sentences", "Words"] {
        assert_eq!(report["conllu"][metric]["f1"], 1.0, "{metric}");
    }
    assert_eq!(report["conllu"]["UPOS"]["correct"], 0, "gold tags are not passed through");
}

#[test]
fn iob2_input_keeps_the_tokens_for_ner_scoring() {
    let gold = fixture("gold.iob2");
    let output = nlpd_ok(&["tokenize", "--input", "iob2", "--output", "iob2", &gold], b"");
    assert!(
        output.starts_with(
            "# sent_id = fixture-1\n# text = Mara 's bakery in New Haven\n1\tMara\tO\n"
        ),
        "{output}"
    );
    let system = TempFile::new("system.iob2", output.as_bytes());
    let report: Value = serde_json::from_str(&nlpd_ok(
        &["evaluate", "--ner-gold", &gold, "--ner-system", system.path(), "--json"],
        b"",
    ))
    .unwrap();
    assert_eq!(report["ner"]["overall"]["gold"], 5);
    assert_eq!(report["ner"]["overall"]["system"], 0, "the tokenizer finds no entities");
}

#[test]
fn malformed_input_names_the_file_and_line() {
    let bad_conllu =
        TempFile::new("bad.conllu", b"1\tHi\t_\tINTJ\tUH\t_\t0\troot\t_\t_\n2\tthere\n");
    let bad_jsonl = TempFile::new("bad.jsonl", b"{\"text\": \"fine\"}\n{\"body\": \"no text\"}\n");
    let bad_utf8 = TempFile::new("bad.txt", b"ok\n\xff\xfe\n");
    let cases = [
        (
            ["--input", "conllu", bad_conllu.path()],
            bad_conllu.path(),
            "line 2: expected 10 tab-separated columns, found 2",
        ),
        (
            ["--input", "jsonl", bad_jsonl.path()],
            bad_jsonl.path(),
            "line 2: expected a JSON object with a \"text\" string",
        ),
        (["--input", "lines", bad_utf8.path()], bad_utf8.path(), "line 2"),
        (["--input", "text", bad_utf8.path()], bad_utf8.path(), "valid UTF-8"),
    ];
    for (args, path, message) in cases {
        let run = nlpd(&[&["tokenize"], &args[..]].concat(), b"");
        assert!(!run.success, "{args:?} must fail");
        let expected = format!("error: {path}: ");
        assert!(run.stderr.starts_with(&expected), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn unreadable_files_fail_with_a_message() {
    let missing = std::env::temp_dir().join("nlpd-no-such-file.txt");
    let missing = missing.to_str().unwrap();
    let cases: [&[&str]; 6] = [
        &["parse", missing],
        &["parse", "--model", missing, "-"],
        &["evaluate", "--gold", missing, "--system", missing],
        &["evaluate", "--ner-gold", missing, "--ner-system", missing],
        &["serve", "--config", missing],
        &["train", "--config", missing, "--output", missing],
    ];
    for args in cases {
        let run = nlpd(args, b"");
        assert!(!run.success, "{args:?} must fail");
        assert!(run.stderr.contains("cannot"), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(missing), "{args:?}: {}", run.stderr);
        // The operating system's reason, once: not repeated by each layer of context.
        assert_eq!(run.stderr.matches("os error 2").count(), 1, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn file_input_off_a_terminal_prints_no_progress() {
    let file = TempFile::new("quiet.txt", b"Quiet please.");
    let run = nlpd(&["tokenize", file.path()], b"");
    assert!(run.success);
    assert_eq!(run.stderr, "");
}

/// Runs `nlpd evaluate` on the gold and system CoNLL-U fixtures, with `extra` arguments.
fn evaluate_fixtures(extra: &[&str]) -> String {
    let (gold, system) = (fixture("gold.conllu"), fixture("system.conllu"));
    nlpd_ok(&[&["evaluate", "--gold", &gold, "--system", &system], extra].concat(), b"")
}

#[test]
fn evaluate_prints_the_conll_2018_table() {
    // The numbers agree with ../shared/tools/score_conllu.py and score_ner.py on these
    // fixtures (both give Tokens F1 91.43, LAS F1 65.00 and NER F1 50.00).
    let (ner_gold, ner_system) = (fixture("gold.iob2"), fixture("system.iob2"));
    let output = evaluate_fixtures(&["--ner-gold", &ner_gold, "--ner-system", &ner_system]);
    insta::assert_snapshot!(output);
}

#[test]
fn evaluate_prints_json_with_counts() {
    let report: Value = serde_json::from_str(&evaluate_fixtures(&["--json"])).unwrap();
    assert!(report.get("ner").is_none());
    let counts = |metric: &str| {
        let m = &report["conllu"][metric];
        (m["correct"].as_u64().unwrap(), m["system"].as_u64().unwrap(), m["gold"].as_u64().unwrap())
    };
    assert_eq!(counts("Tokens"), (16, 17, 18));
    assert_eq!(counts("Words"), (17, 19, 21));
    assert_eq!(counts("LAS"), (13, 19, 21));
}

#[test]
fn evaluate_refuses_different_texts() {
    let other = TempFile::new("other.conllu", b"1\tNope\t_\t_\t_\t_\t_\t_\t_\t_\n\n");
    let run = nlpd(&["evaluate", "--gold", &fixture("gold.conllu"), "--system", other.path()], b"");
    assert!(!run.success);
    assert!(run.stderr.contains("differ at non-space character 0"), "{}", run.stderr);
}

/// A sentence written for the tree tests: "Ivo bakes rye bread." with HEADs `{h1}` to `{h4}`
/// (a valid tree: 2 0 4 2), after a comment line.
fn tree_sentence(heads: [&str; 4]) -> String {
    let [h1, h2, h3, h4] = heads;
    format!(
        "# text = Ivo bakes rye bread\n\
         1\tIvo\tIvo\tPROPN\tNNP\t_\t{h1}\tnsubj\t_\t_\n\
         2\tbakes\tbake\tVERB\tVBZ\t_\t{h2}\troot\t_\t_\n\
         3\trye\trye\tNOUN\tNN\t_\t{h3}\tcompound\t_\t_\n\
         4\tbread\tbread\tNOUN\tNN\t_\t{h4}\tobj\t_\t_\n\n"
    )
}

#[test]
fn evaluate_refuses_invalid_trees_naming_file_and_line() {
    // Issue 19: as the CoNLL 2018 evaluator, refuse what is not a tree, in either file. The
    // bad sentence comes second, so its lines are 7 (comment) to 11.
    let valid = tree_sentence(["2", "0", "4", "2"]);
    let cases = [
        (["2", "0", "3", "2"], 10, "invalid tree: word 3 is its own head"),
        (["0", "0", "4", "2"], 9, "invalid tree: words 1 and 2 both have HEAD 0"),
        (["2", "4", "4", "2"], 8, "invalid tree: the sentence has no root"),
        (["2", "0", "4", "3"], 10, "invalid tree: the HEADs form a cycle: 3 → 4 → 3"),
        (["2", "0", "5", "2"], 10, "HEAD 5 is past the last word (4)"),
    ];
    let good = TempFile::new("good.conllu", format!("{valid}{valid}").as_bytes());
    for (heads, line, reason) in cases {
        let bad = TempFile::new("bad.conllu", (valid.clone() + &tree_sentence(heads)).as_bytes());
        for (gold, system, side) in [(&bad, &good, "gold"), (&good, &bad, "system")] {
            let run = nlpd(&["evaluate", "--gold", gold.path(), "--system", system.path()], b"");
            assert!(!run.success, "{heads:?} in the {side} file must fail");
            let expected = format!("error: {}: line {line}: {reason}", bad.path());
            assert!(run.stderr.starts_with(&expected), "{heads:?}: {}", run.stderr);
            assert_eq!(run.stdout, "");
        }
    }
    nlpd_ok(&["evaluate", "--gold", good.path(), "--system", good.path()], b"");
}

/// The real treebank, pre-tokenised, goes through the CoNLL-U reader and writer of the
/// binary and scores 100 on segmentation against itself.
#[test]
fn ewt_test_keeps_its_tokenization_through_nlpd() {
    let Some(gold) = shared_data("ud-english-ewt/en_ewt-ud-test.conllu") else { return };
    let gold = gold.to_str().unwrap();
    let words = nlpd_ok(&["tokenize", "--input", "conllu", "--output", "conllu", gold], b"");
    let words = TempFile::new("ewt-words.conllu", words.as_bytes());
    let report: Value = serde_json::from_str(&nlpd_ok(
        &["evaluate", "--gold", gold, "--system", words.path(), "--json"],
        b"",
    ))
    .unwrap();
    for metric in ["Tokens", "Sentences", "Words"] {
        assert_eq!(report["conllu"][metric]["f1"], 1.0, "{metric}");
    }
    assert_eq!(report["conllu"]["Words"]["gold"], 25094);
    assert!(Path::new(words.path()).exists());
}

/// Sentences written for the vocabulary test: "Zorblax" and "quuxes" are in no real corpus.
const VOCAB_CONLLU: &str = "\
# text = Zorblax quuxes daily.
1\tZorblax\tZorblax\tPROPN\tNNP\t_\t2\tnsubj\t_\t_
2\tquuxes\tquux\tVERB\tVBZ\t_\t0\troot\t_\t_
3\tdaily\tdaily\tADV\tRB\t_\t2\tadvmod\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

";

/// The shipped training config with `corpus` as its training treebank, written to `name`.
fn config_training_on(corpus: &TempFile, name: &str) -> TempFile {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(root.join("config/train-en.toml")).expect("config");
    let train_line = config.lines().find(|l| l.starts_with("train = ")).expect("a train path");
    let config = config.replace(train_line, &format!("train = {:?}", corpus.path()));
    TempFile::new(name, config.as_bytes())
}

/// The path of the shipped model file.
fn shipped_model_path() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/en_ewt.nlpd");
    path.to_str().expect("UTF-8 path").to_owned()
}

/// Runs `nlpd train --components COMPONENT` on the shipped model with `conllu` as the
/// training treebank; returns the config it trained with and the rebuilt pipeline, which is
/// checked to have the shipped pipeline's components.
fn retrain_shipped(conllu: &str, component: &str) -> (TempFile, nlpd::pipeline::Pipeline) {
    let corpus = TempFile::new(&format!("{component}.conllu"), conllu.as_bytes());
    let config = config_training_on(&corpus, &format!("{component}.toml"));
    let output = TempFile::new(&format!("{component}.nlpd"), b"");
    let args = ["train", "--config", config.path(), "--components", component];
    let base = shipped_model_path();
    nlpd_ok(&[&args[..], &["--base", &base, "--output", output.path()]].concat(), b"");
    let bytes = std::fs::read(&output.path).expect("output");
    let rebuilt = nlpd::pipeline::Pipeline::load(&bytes).expect("loads");
    let shipped = nlpd::pipeline::Pipeline::default_english();
    assert!(rebuilt.component_names().eq(shipped.component_names()));
    (config, rebuilt)
}

#[test]
fn train_components_vocab_rebuilds_only_the_vocabulary() {
    use nlpd::pipeline::Pipeline;
    use nlpd::vocab::LexFlags;

    let (config, rebuilt) = retrain_shipped(VOCAB_CONLLU, "vocab");
    let shipped = Pipeline::default_english();
    let (zone, shipped_zone) = (rebuilt.vocab().zone(), shipped.vocab().zone());
    // (word, in the rebuilt vocabulary, in the shipped one)
    let cases = [
        ("Zorblax", true, false),
        ("quuxes", true, false),
        ("daily", true, true),
        ("gon", true, true),
        ("company", false, true),
    ];
    for (word, rebuilt_knows, shipped_knows) in cases {
        assert_eq!(!zone.lexeme(word).is(LexFlags::IS_OOV), rebuilt_knows, "{word}");
        assert_eq!(!shipped_zone.lexeme(word).is(LexFlags::IS_OOV), shipped_knows, "{word}");
    }
    // The weights are the base's: both pipelines annotate a text alike.
    let text = "Zorblax quuxes daily in the company of Ada Lovelace.";
    let doc = rebuilt.process(&zone, text).expect("annotated");
    let shipped_doc = shipped.process(&shipped_zone, text).expect("annotated");
    let json = |doc: &nlpd::doc::Doc<'_>| serde_json::to_value(doc.to_json()).expect("json");
    assert_eq!(json(&doc), json(&shipped_doc));

    let base = shipped_model_path();
    let refused =
        nlpd(&["train", "--config", config.path(), "--base", &base, "--output", "x"], b"");
    assert!(!refused.success && refused.stderr.contains("--components ner, lemmatizer or vocab"));
}

/// A treebank that teaches an unmistakable lemma ("dogs" → "canine").
const LEMMA_CONLLU: &str = "\
# text = The dogs bark.
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2\tdogs\tcanine\tNOUN\tNNS\t_\t3\tnsubj\t_\t_
3\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

";

#[test]
fn train_components_lemmatizer_relearns_only_the_lemmatizer() {
    use nlpd::pipeline::Pipeline;

    let (_config, rebuilt) = retrain_shipped(LEMMA_CONLLU, "lemmatizer");
    let shipped = Pipeline::default_english();
    let lemmas = |pipeline: &Pipeline| -> Vec<String> {
        let zone = pipeline.vocab().zone();
        let doc = pipeline.process(&zone, "Two dogs bark.").expect("annotated");
        doc.iter().map(|t| t.resolve(t.data().lemma).to_owned()).collect()
    };
    assert_eq!(lemmas(&shipped)[1], "dog");
    assert_eq!(lemmas(&rebuilt)[1], "canine", "the lemmatizer is the tiny treebank's");
    assert_eq!(lemmas(&rebuilt)[2], "bark");
}

#[test]
fn ensemble_joins_models_and_refuses_what_is_not_one() {
    let shipped = shipped_model_path();
    let joined = TempFile::new("joined.nlpd", b"");
    let run = nlpd(&["ensemble", "--output", joined.path(), &shipped, &shipped], b"");
    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("2 members"), "{}", run.stderr);
    // The mean of a pipeline's scores with themselves is its own scores.
    let text = b"Ms. Okafor moved to Leeds in 2019. She teaches chemistry there.\n";
    let alone = nlpd_ok(&["parse", "--output", "conllu"], text);
    let twice = nlpd_ok(&["parse", "--model", joined.path(), "--output", "conllu"], text);
    assert_eq!(twice, alone);

    let junk = TempFile::new("junk.nlpd", b"not a model");
    let run = nlpd(&["ensemble", "--output", joined.path(), &shipped, junk.path()], b"");
    assert!(!run.success && run.stderr.contains("cannot join the models"), "{}", run.stderr);
    let run = nlpd(&["ensemble", "--output", joined.path(), &shipped], b"");
    assert!(!run.success, "one model is no ensemble");
}

#[test]
fn render_writes_a_page_with_the_picture_and_the_text_escaped() {
    let text = "Ada Lovelace lived in London. <script>alert(1)</script> \"><svg onload=alert(1)>";
    let dep = nlpd_ok(&["render", "--style", "dep"], text.as_bytes());
    assert!(dep.starts_with("<!DOCTYPE html>") && dep.ends_with("</html>\n"), "{dep}");
    assert!(dep.contains("<svg xmlns=") && dep.contains("<g class=\"arc\""), "{dep}");
    let file = TempFile::new("text.txt", text.as_bytes());
    let page = file.dir.join("ent.html");
    let out = page.to_str().expect("UTF-8 path");
    assert_eq!(nlpd_ok(&["render", "--style", "ent", file.path(), "--output", out], b""), "");
    let ent = std::fs::read_to_string(&page).expect("the page is written");
    assert!(ent.contains("<mark class=\"nlpd-ent\" data-label=\"LOC\">London<span"), "{ent}");
    assert!(
        ent.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;svg onload"),
        "{ent}"
    );
    for page in [&dep, &ent] {
        assert!(!page.contains("<script") && !page.contains("<svg onload"), "{page}");
    }
    let run = nlpd(&["render", "--style", "png"], b"hi");
    assert!(!run.success && run.stderr.contains("possible values: dep, ent"), "{}", run.stderr);
}

#[test]
fn encoder_pieces_and_build_read_the_fetched_encoder() {
    let Some(dir) = fetched_encoder() else { return };
    let dir = dir.to_str().expect("a UTF-8 path");
    let pieces = nlpd_ok(&["encoder", "pieces", dir], "Hello, World!\n\nNaïve\n".as_bytes());
    // hello , world ! / (nothing) / naive
    assert_eq!(pieces, "7592 1010 2088 999\n\n15743\n");
    let text = "Ünbelievable tokenization!\n".as_bytes();
    let pieces = nlpd_ok(&["encoder", "pieces", dir, "--text"], text);
    assert_eq!(pieces, "unbelievable token ##ization !\n");

    let model = TempFile::new("encoder.nlpd", b"");
    let run = nlpd(&["encoder", "build", dir, "--output", model.path()], b"");
    assert!(run.success, "{}", run.stderr);
    let out = nlpd_ok(
        &["parse", "--model", model.path(), "--output", "conllu"],
        b"Encoders read pieces.\n",
    );
    let forms: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    assert_eq!(forms, ["Encoders", "read", "pieces", "."]);

    let run = nlpd(&["encoder", "build", "/nonexistent", "--output", model.path()], b"");
    assert!(
        !run.success && run.stderr.contains("cannot read the encoder in /nonexistent"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_output_is_the_same_on_any_number_of_threads() {
    // Lines of different lengths (and empty ones), so documents finish out of order.
    let lines: String = (0..24)
        .map(|i| match i % 4 {
            0 => {
                "Dr. Smith went to Washington. He met the senator there. ".repeat(1 + i % 3) + "\n"
            }
            1 => "Yes.\n".to_owned(),
            2 => "\n".to_owned(),
            _ => format!("Document {i} says Acme Corp. hired {i} people in Paris.\n"),
        })
        .collect();
    let (conllu, iob2) = (fixture("gold.conllu"), fixture("gold.iob2"));
    // (input format, file or standard input, output formats)
    let cases: [(&str, Option<&str>, &[&str]); 3] = [
        ("lines", None, &["json", "jsonl", "conllu", "iob2"]),
        ("conllu", Some(&conllu), &["conllu"]),
        ("iob2", Some(&iob2), &["iob2"]),
    ];
    for (input, file, outputs) in cases {
        for &output in outputs {
            let run = |threads: &str| {
                let mut args =
                    vec!["parse", "--input", input, "--output", output, "--threads", threads];
                args.extend(file);
                nlpd_ok(&args, lines.as_bytes())
            };
            let one = run("1");
            assert!(one.len() > 100, "{input} → {output}: {one}");
            assert!(run("3") == one, "{input} → {output} differs on 3 threads");
        }
    }
}

#[test]
fn a_bad_document_stops_every_thread_after_the_documents_before_it() {
    let input = b"{\"text\": \"One.\"}\n{\"text\": \"Two.\"}\nnot json\n{\"text\": \"Four.\"}\n";
    for threads in ["1", "3"] {
        let run =
            nlpd(&["parse", "--input", "jsonl", "--output", "jsonl", "--threads", threads], input);
        assert!(!run.success, "{threads} threads");
        assert!(run.stderr.contains("line 3: expected a JSON object"), "{}", run.stderr);
        assert_eq!(texts(&json_lines(&run.stdout)), ["One.", "Two."], "{threads} threads");
    }
}
