#!/usr/bin/env python3
"""Splits the corpus into `train.jsonl`, `dev.jsonl` and `blind.jsonl` by a hash of each id.

The split depends on nothing but the id: SHA-256 of the id, first four bytes as a number,
modulo 100; below 22 is blind, below 36 is dev, the rest is train. Sentences whose text
already appeared earlier (hand-written batches first, then composed) are dropped, so a text
never sits in two splits. Run `python3 split.py` after adding a batch; existing ids keep
their split, so the blind split only ever grows.
"""
import hashlib
import json

seen = set()
splits = {"train": [], "dev": [], "blind": []}
for source in ["handwritten.jsonl", "composed.jsonl"]:
    for line in open(source, encoding="utf-8"):
        row = json.loads(line)
        key = " ".join(row["text"].lower().split())
        if key in seen:
            continue
        seen.add(key)
        bucket = int.from_bytes(hashlib.sha256(row["id"].encode()).digest()[:4], "big") % 100
        split = "blind" if bucket < 22 else "dev" if bucket < 36 else "train"
        splits[split].append(line)
for name, lines in splits.items():
    with open(f"{name}.jsonl", "w", encoding="utf-8") as out:
        out.writelines(lines)
    print(name, len(lines), sum(json.loads(l)["label"] for l in lines))
