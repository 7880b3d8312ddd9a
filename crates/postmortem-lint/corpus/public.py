#!/usr/bin/env python3
"""Turns real public post-mortems (Markdown) into training-only clean sentences: `public.jsonl`.

    python3 public.py DIR URL_PREFIX COMMIT > public.jsonl

Each row keeps its source: the URL of the file it came from, at the commit read. The
sentences are labelled clean (0) because the documents are blameless incident reports written
by their teams; sentences that the checker's rules flag are left out by the caller (see
README.md), so a real blameful line is not taught as clean. Markdown that is not prose (code,
links' targets, images, HTML, headings, tables) is dropped.
"""
import json
import os
import re
import sys

directory, prefix, commit = sys.argv[1:4]
rows = []
for name in sorted(os.listdir(directory)):
    if not name.endswith(".md") or not name[:4].isdigit():
        continue
    text = open(os.path.join(directory, name), encoding="utf-8").read()
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "x", text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    blocks, current = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("|"):
            blocks.append(" ".join(current))
            current = []
            continue
        item = re.match(r"^([-*+]|\d+\.)\s+(\[[ xX]\]\s+)?(.*)$", stripped)
        if item:
            blocks.append(" ".join(current))
            current = [item.group(3)]
        else:
            current.append(stripped.lstrip("> "))
    blocks.append(" ".join(current))
    for block in blocks:
        block = re.sub(r"[*_]{1,2}", "", block).strip()
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", block):
            sentence = sentence.strip()
            if len(sentence.split()) >= 4:
                rows.append((name, sentence))
seen = set()
for n, (name, sentence) in enumerate(rows, 1):
    if sentence in seen:
        continue
    seen.add(sentence)
    row = {"id": f"p-{n:04d}", "text": sentence, "label": 0, "category": "clean",
           "section": "public", "source": f"{prefix}/{commit}/{name}"}
    print(json.dumps(row, ensure_ascii=False))
