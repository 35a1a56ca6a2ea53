//! Tokenizer throughput (placeholder until the tokenizer lands).

fn main() {}
