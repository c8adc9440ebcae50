#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The dev splits of the multi-task model's tasks as the demo, `edgebert classify` and make_reference.py read
them, so a machine without the shared data can still start from text:

  sst2_dev.tsv   label<TAB>sentence          (GLUE SST-2 dev, 872, file order; 0 negative, 1 positive)
  mrpc_dev.tsv   label<TAB>sentence1<TAB>sentence2   (GLUE MRPC dev, 408, file order; 1 equivalent)
  trec_dev.tsv   label<TAB>question          (TREC train_5500.label lines with crc32(question) % 10 == 0,
                                              file order; label = index into ABBR DESC ENTY HUM LOC NUM)
No header lines.

    write_task_split.py --out DIR [--data ../shared/data]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import corpus  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=corpus.DEFAULT_DATA)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    splits = {"sst2": [(l, t) for l, t in corpus.read_sst2(a.data, "dev")],
              "mrpc": corpus.read_mrpc(a.data, "dev"),
              "trec": corpus.trec_split(a.data)[1]}
    for name, rows in splits.items():
        with open(os.path.join(a.out, f"{name}_dev.tsv"), "w", encoding="utf-8") as f:
            for r in rows:
                if any("\t" in x for x in r[1:]):
                    raise ValueError(f"{name}: a text contains a tab: {r!r}")
                f.write("\t".join(str(x) for x in r) + "\n")
        print(f"{name}: {len(rows)} -> {os.path.join(a.out, name + '_dev.tsv')}")


if __name__ == "__main__":
    main()
