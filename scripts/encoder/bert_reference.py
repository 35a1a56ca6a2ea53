"""A reference BERT forward pass in numpy (float64), for nlpd's encoder test fixture.

Usage: bert_reference.py ENCODER_DIR OUTPUT_JSON

Reads config.json, tokenizer.json (with Hugging Face `tokenizers`, for the piece ids) and
model.safetensors (parsed here: an 8-byte header length, a JSON header, then the raw
little-endian arrays), runs the encoder on the sentences below, each as one input
[CLS] ... [SEP], and writes each sentence's text, piece ids and last hidden states (one
row of `hidden_size` per piece, rounded to 6 decimals) as JSON. The Rust test
`bert_matches_the_numpy_reference` reads the file.

This follows the BERT paper and Hugging Face's `BertModel` (absolute positions, one token
type, post-layer-norm, erf GELU), written from their documentation.
"""

import json
import math
import struct
import sys

import numpy as np
from tokenizers import Tokenizer

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Naïve travellers don't always pack umbrellas in Zürich!",
    "Ada Lovelace wrote the first published algorithm in 1843.",
]


def load_tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
        out[name] = array.astype(np.float64)
    return out


def layer_norm(x, gain, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def encode(t, config, ids):
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    n = len(ids)
    x = (
        t["embeddings.word_embeddings.weight"][ids]
        + t["embeddings.position_embeddings.weight"][:n]
        + t["embeddings.token_type_embeddings.weight"][0]
    )
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    width = x.shape[1]
    d = width // heads
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def linear(name, h):
            return h @ t[p + name + ".weight"].T + t[p + name + ".bias"]

        q = linear("attention.self.query", x).reshape(n, heads, d).transpose(1, 0, 2)
        k = linear("attention.self.key", x).reshape(n, heads, d).transpose(1, 0, 2)
        v = linear("attention.self.value", x).reshape(n, heads, d).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(n, width)
        x = layer_norm(
            x + linear("attention.output.dense", context),
            t[p + "attention.output.LayerNorm.weight"],
            t[p + "attention.output.LayerNorm.bias"],
            eps,
        )
        inner = gelu(linear("intermediate.dense", x))
        x = layer_norm(
            x + linear("output.dense", inner),
            t[p + "output.LayerNorm.weight"],
            t[p + "output.LayerNorm.bias"],
            eps,
        )
    return x


def main():
    directory, output = sys.argv[1:]
    with open(f"{directory}/config.json") as f:
        config = json.load(f)
    assert config["hidden_act"] == "gelu" and config["position_embedding_type"] == "absolute"
    tensors = load_tensors(f"{directory}/model.safetensors")
    tokenizer = Tokenizer.from_file(f"{directory}/tokenizer.json")
    tokenizer.no_truncation()
    tokenizer.no_padding()
    cases = []
    for text in SENTENCES:
        ids = tokenizer.encode(text).ids
        hidden = encode(tensors, config, ids)
        cases.append(
            {"text": text, "ids": ids, "hidden": [[round(v, 6) for v in row] for row in hidden]}
        )
    with open(output, "w") as f:
        json.dump({"model": "all-MiniLM-L6-v2", "sentences": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
