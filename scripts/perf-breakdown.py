"""Shares of `perf script` samples (frame-pointer call graphs of `nlpd parse`) per pipeline
component, per step inside a component and per kernel (the leaf function), as Markdown
tables. Used by scripts/profile.sh; reads `perf script` output on standard input."""

import collections
import re
import sys

# (name, a frame that marks it); the first that matches a sample's stack wins.
COMPONENTS = [
    ("tok2vec", "nlpd::pipeline::tok2vec::Tok2Vec as nlpd::pipeline::Component>::process"),
    ("parser", "nlpd::pipeline::parser::Parser as nlpd::pipeline::Component>::process"),
    ("ner", "EntityRecognizer as nlpd::pipeline::Component>::process"),
    ("tagger", "Tagger as nlpd::pipeline::Component>::process"),
    ("morphologizer", "Morphologizer as nlpd::pipeline::Component>::process"),
    ("lemmatizer", "Lemmatizer as nlpd::pipeline::Component>::process"),
    ("doc_cleaner", "DocCleaner as nlpd::pipeline::Component>::process"),
    ("tokenizer", "Tokenizer::tokenize"),
    ("writing (CoNLL-U)", "write_words"),
    ("writing (CoNLL-U)", "write_comments"),
    ("writing (CoNLL-U)", "SentenceWriter"),
    ("writing (CoNLL-U)", "DocWriter"),
    ("writing (CoNLL-U)", "DocRenderer"),
    ("model load", "load_pipeline"),
    ("reading input", "for_each_line"),
    ("memory returned to the kernel (munmap)", "munmap"),
]
# (component, step, a frame that marks it); the first that matches wins.
STEPS = [
    ("tok2vec", "hash embeddings", "sum_rows"),
    ("tok2vec", "feature keys", "push_keys"),
    ("tok2vec", "maxout layers (mixer, blocks)", "Dense::forward"),
    ("tok2vec", "layer norm", "normalize"),
    # score_rows is multiversioned, so it stays a frame of its own wherever the rest is
    # inlined; the parser's other Dense::forward is the lower layer's.
    ("parser", "state scoring (feature sums, maxout, output layer)", "score_rows"),
    ("parser", "state scoring (feature sums, maxout, output layer)", "score_window"),
    ("parser", "precompute (lower layer, all tokens)", "Window::cover"),
    ("parser", "precompute (lower layer, all tokens)", "Dense::forward"),
    ("ner", "hash embeddings", "sum_rows"),
    ("ner", "feature keys", "push_keys"),
    ("ner", "maxout layers + output layer", "Dense::forward"),
    ("ner", "CRF decode", "Crf::decode"),
    ("tagger", "softmax heads", "Dense::forward"),
    ("morphologizer", "softmax head", "Dense::forward"),
]


def leaf_name(symbol):
    """A short kernel name: multiversion clone suffixes and closures dropped."""
    symbol = re.sub(r"_(avx|sse|default)[a-z0-9_]*_version$", "", symbol)
    symbol = symbol.replace("::{{closure}}", "")
    parts = symbol.split("::")
    return "::".join(parts[-2:]) if len(parts) > 1 else symbol


def main():
    components, steps, kernels = (collections.Counter() for _ in range(3))
    total = 0
    stack = []

    def flush():
        nonlocal total
        if not stack:
            return
        total += 1
        component = next((n for n, p in COMPONENTS if any(p in f for f in stack)), "other")
        components[component] += 1
        step = next(
            (s for c, s, p in STEPS if c == component and any(p in f for f in stack)), "rest"
        )
        steps[f"{component}: {step}"] += 1
        kernels[leaf_name(stack[0])] += 1

    for line in sys.stdin:
        if not line.strip():
            flush()
            stack = []
        elif line[0] in " \t":
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                stack.append(re.sub(r"\+0x[0-9a-f]+$", "", re.sub(r" \(.*\)$", "", parts[1])))
    flush()

    print(f"{total} samples\n")
    for title, counter, limit in [
        ("Component", components, None),
        ("Component: step", steps, 30),
        ("Kernel (leaf function)", kernels, 15),
    ]:
        print(f"| {title} | share |\n|---|---:|")
        for name, count in counter.most_common(limit):
            print(f"| {name} | {100 * count / total:.1f}% |")
        print()


if __name__ == "__main__":
    main()
