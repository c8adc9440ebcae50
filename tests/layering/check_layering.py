#!/usr/bin/env python3
"""Fails when a header under include/edgebert/ includes one of a layer it may not depend on.

The layers, bottom first, and what each may include besides itself (docs/architecture.md draws the same
graph). Umbrella headers directly under include/edgebert/ may include anything.
"""
import os
import re
import sys

LAYERS = {  # layer: the layers below it that it may include
    "core": [],
    "numeric": ["core"],
    "sparse": ["core", "numeric"],
    "kernels": ["core", "numeric", "sparse"],
    "io": ["core", "numeric", "sparse"],
    "names": ["core"],
    "text": ["core"],
    "trace": ["core"],
    "exit": ["core"],
    "nn": ["core", "numeric", "sparse", "kernels"],
    "model": ["core", "numeric", "sparse", "kernels", "io", "names", "trace", "exit", "nn"],
    "compress": ["core", "numeric", "sparse", "kernels", "io", "names", "trace", "exit", "nn", "model"],
    "hw": ["core", "trace", "exit"],
    "pipeline": ["core", "numeric", "sparse", "kernels", "io", "names", "text", "trace", "exit", "nn", "model", "hw"],
}


def main(root):
    root = os.path.abspath(root)
    problems = []
    seen = set()
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            if not f.endswith(".hpp"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            layer = rel.split(os.sep)[0] if os.sep in rel else None
            if layer is None:
                continue  # umbrella header
            if layer not in LAYERS:
                problems.append(f"{rel}: folder '{layer}' is not a declared layer (tests/layering/check_layering.py)")
                continue
            seen.add(layer)
            for n, line in enumerate(open(path, encoding="utf-8"), 1):
                m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
                if not m:
                    continue
                inc = m.group(2)
                if m.group(1) == "<":
                    if inc.startswith("edgebert/"):
                        problems.append(f"{rel}:{n}: includes <{inc}>; use a relative path inside the library")
                    continue
                target = os.path.relpath(os.path.normpath(os.path.join(os.path.dirname(path), inc)), root)
                if target.startswith(".."):
                    problems.append(f"{rel}:{n}: includes '{inc}' outside include/edgebert")
                    continue
                tlayer = target.split(os.sep)[0] if os.sep in target else "<umbrella>"
                if tlayer != layer and tlayer not in LAYERS[layer]:
                    problems.append(f"{rel}:{n}: layer '{layer}' includes '{target}' of layer '{tlayer}' "
                                    f"(allowed: {', '.join(LAYERS[layer]) or 'none'})")
    for p in problems:
        print(p)
    print(f"layering: {len(problems)} problem(s) in {len(seen)} layers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../include/edgebert")))
