# SPDX-License-Identifier: Apache-2.0
"""Python helpers for edgebert: a plain-torch ALBERT with HuggingFace parameter names, AdapterHub bottleneck
adapters, EdgeBERT off-ramps, adaptive spans and pruning masks, the exit-predictor table, and an exporter to the
multi-task model folder the C++ library reads. Needs only torch, numpy and sentencepiece."""
