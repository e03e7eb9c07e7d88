#!/usr/bin/env python3
"""Recomputes a `gemc quant-explore --keep` report independently.

  check_explore.py DIR IDS_FILE

For every row of DIR/report.csv: the artifact DIR/CONFIG.gemc has artifact_bytes bytes, and the
KL divergence (mean and 99th percentile, nearest rank), top-1 agreement and perplexity, computed
here with numpy from `gemc run --dump-logits` of that artifact and of DIR/reference.gemc on the
token ids of IDS_FILE, match the report (relative 1e-3, absolute 1e-6). Prints one line per
config and exits 1 on any mismatch. `gemc` must be on PATH.
"""
import csv
import math
import os
import subprocess
import sys

import numpy as np


def logits(artifact, ids, vocab_rows):
    dump = artifact + ".f32"
    subprocess.run(["gemc", "run", artifact, "--tokens", ids, "-n", "0", "--dump-logits", dump],
                   check=True, stdout=subprocess.DEVNULL)
    values = np.fromfile(dump, dtype=np.float32).astype(np.float64)
    return values.reshape(vocab_rows, -1)


def log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def close(a, b):
    return abs(a - b) <= 1e-6 + 1e-3 * abs(b)


def main():
    out, ids_file = sys.argv[1:3]
    ids = [int(t) for t in open(ids_file).read().replace(",", " ").split()]
    text = ",".join(map(str, ids))
    rows = list(csv.DictReader(open(os.path.join(out, "report.csv"))))
    if not rows:
        sys.exit("check_explore.py: %s/report.csv has no rows" % out)
    ref = log_softmax(logits(os.path.join(out, "reference.gemc"), text, len(ids)))[:-1]
    failed = False
    for row in rows:
        artifact = os.path.join(out, row["config"] + ".gemc")
        q = log_softmax(logits(artifact, text, len(ids)))[:-1]
        kl = np.sort(np.maximum((np.exp(ref) * (ref - q)).sum(axis=1), 0.0))
        expected = {
            "artifact_bytes": os.path.getsize(artifact),
            "kl_mean": kl.mean(),
            "kl_p99": kl[math.ceil(0.99 * len(kl)) - 1],
            "top1_agreement": (ref.argmax(axis=1) == q.argmax(axis=1)).mean(),
            "perplexity": math.exp(-np.mean([q[t, ids[t + 1]] for t in range(len(ids) - 1)])),
        }
        bad = [k for k, v in expected.items() if not close(float(row[k]), float(v))]
        failed |= bool(bad)
        print("%s: %s" % (row["config"], "matches" if not bad else "differs in " + ", ".join(
            "%s (report %s, numpy %.6g)" % (k, row[k], expected[k]) for k in bad)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
