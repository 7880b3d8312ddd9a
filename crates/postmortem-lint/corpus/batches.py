#!/usr/bin/env python3
"""Turns the hand-written `batch-N.txt` files into `handwritten.jsonl` (LABELING.md's schema),
and the training-only `supplement-N.txt` files into `supplement.jsonl` (ids `sN-XXXX`).

A batch file is plain text: `# ...` lines are comments, `@ label category section` sets the
labels for the sentences that follow, every other non-empty line is one sentence. Ids are
`hN-XXXX` (batch number, line number), so they are stable while a batch only grows at the end.
"""
import glob
import json
import re



def convert(pattern, prefix, out):
    with open(out, "w", encoding="utf-8") as sink:
        for path in sorted(glob.glob(pattern), key=lambda p: int(re.search(r"(\d+)", p).group(1))):
            batch = re.search(r"(\d+)", path).group(1)
            label = category = section = None
            for number, line in enumerate(open(path, encoding="utf-8"), 1):
                line = line.rstrip("\n").strip()
                if not line or line.startswith("# "):
                    continue
                if line.startswith("@ "):
                    _, label, category, section = line.split()
                    continue
                row = {"id": f"{prefix}{batch}-{number:04d}", "text": line, "label": int(label),
                       "category": category, "section": section}
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")


convert("batch-*.txt", "h", "handwritten.jsonl")
convert("supplement-*.txt", "s", "supplement.jsonl")
