#!/usr/bin/env python3
"""Encodes text with a tokenizer.json, independently of gemc, as Hugging Face's BPE does.

  encode_ids.py TOKENIZER_JSON (--text TEXT | --file FILE) [--bos]
      prints the ids comma-separated on one line (gemc tokenize's format); --bos puts the
      `<bos>` id first.

Handles what the Gemma tokenizer.json files use: added tokens matched whole in the raw text
(leftmost, longest first), the Replace(" " -> "\u2581") normalizer on the text between them,
no pre-tokenizer (each stretch of text is one word), merges applied lowest rank first (leftmost
first among equal ranks), and byte fallback (`<0xNN>` per UTF-8 byte of a character that is
not in the vocabulary). Anything else in the file is refused. Only the standard library is used.
"""
import argparse
import json
import sys


def bpe(word, ranks):
    """The word's characters merged pair by pair, the lowest-ranked pair first."""
    parts = list(word)
    while len(parts) > 1:
        pairs = [(ranks.get((a, b)), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
        best = min((p for p in pairs if p[0] is not None), default=None)
        if best is None:
            return parts
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts


def encode(tokenizer, text):
    model = tokenizer["model"]
    normalizer = tokenizer.get("normalizer")
    if (model["type"] != "BPE" or tokenizer.get("pre_tokenizer") is not None or
            normalizer != {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}):
        sys.exit("encode_ids.py: unsupported tokenizer.json (model, normalizer or pre_tokenizer)")
    vocab = model["vocab"]
    ranks = {}
    for rank, merge in enumerate(model["merges"]):
        pair = tuple(merge.split(" ", 1)) if isinstance(merge, str) else tuple(merge)
        ranks.setdefault(pair, rank)
    added = {t["content"]: t["id"] for t in tokenizer.get("added_tokens", [])}
    ids, start, at = [], 0, 0

    def flush(end):
        for piece in bpe(text[start:end].replace(" ", "\u2581"), ranks):
            if piece in vocab:
                ids.append(vocab[piece])
            else:
                ids.extend(vocab["<0x%02X>" % byte] for byte in piece.encode("utf-8"))

    while at < len(text):
        match = max((t for t in added if text.startswith(t, at)), key=len, default=None)
        if match is None:
            at += 1
            continue
        flush(at)
        ids.append(added[match])
        at += len(match)
        start = at
    flush(len(text))
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tokenizer")
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--text")
    source.add_argument("--file")
    ap.add_argument("--bos", action="store_true")
    a = ap.parse_args()
    with open(a.tokenizer, encoding="utf-8") as f:
        tokenizer = json.load(f)
    text = a.text if a.text is not None else open(a.file, encoding="utf-8", newline="").read()
    bos = [t["id"] for t in tokenizer.get("added_tokens", []) if t["content"] == "<bos>"]
    ids = (bos if a.bos else []) + encode(tokenizer, text)
    print(",".join(map(str, ids)))


if __name__ == "__main__":
    main()
