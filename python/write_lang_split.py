#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write one split of the fortune language-identification task as `label<TAB>text` lines (no header; label is
the index into ["en", "de", "es", "it"], the order of tasks/lang/task.json "labels").

    write_lang_split.py --split dev|test|train --out FILE.tsv"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import data  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["train", "dev", "test"], default="dev")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rows = data.lang_splits()[a.split]
    with open(a.out, "w", encoding="utf-8") as f:
        for y, t in rows:
            f.write(f"{y}\t{t.replace(chr(9), ' ')}\n")


if __name__ == "__main__":
    main()
