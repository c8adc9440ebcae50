// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert/text: the SentencePiece tokenizer with ALBERT conventions (compiles the Unicode tables), and the layers below it (docs/architecture.md).

#include "text/albert_tokenizer.hpp"
#include "text/normalizer.hpp"
#include "text/sentencepiece_model.hpp"
#include "text/unigram_tokenizer.hpp"
