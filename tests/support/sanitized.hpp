// SPDX-License-Identifier: Apache-2.0
#pragma once
// EDGEBERT_TEST_SANITIZED is 1 in a program built with ASan or TSan, by GCC (which defines __SANITIZE_*__) or by
// clang (which answers __has_feature instead). Tests use it to shorten work that costs minutes under a sanitizer,
// or to skip a bound that measures the sanitizer's runtime rather than edgebert.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDGEBERT_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EDGEBERT_TEST_SANITIZED 1
#endif
#endif
#ifndef EDGEBERT_TEST_SANITIZED
#define EDGEBERT_TEST_SANITIZED 0
#endif
