// SPDX-License-Identifier: Apache-2.0
#pragma once
// Every failure the library reports is one of these types. Messages name the file, tensor, field or
// token at fault, so that a user can act on them without a debugger.

#include <stdexcept>
#include <string>

namespace edgebert {

/// Base of all edgebert exceptions; catch this to handle any library failure.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A file could not be opened, mapped, read or written.
class io_error : public error {
public:
    using error::error;
};

/// A file's bytes do not follow its format (truncated, bad header, offsets out of range, bad JSON, ...).
class format_error : public error {
public:
    using error::error;
};

/// A tensor has the wrong shape or element type for where it is used.
class shape_error : public error {
public:
    using error::error;
};

/// A tensor the model needs is absent from the checkpoint.
class missing_tensor_error : public error {
public:
    using error::error;
};

/// A checkpoint holds a tensor the model does not know (never silently ignored).
class unexpected_tensor_error : public error {
public:
    using error::error;
};

/// A configuration value is missing, out of range or inconsistent with the others.
class config_error : public error {
public:
    using error::error;
};

/// Inference input is invalid: empty batch, ragged rows, token id out of range, sequence too long, NaN.
class input_error : public error {
public:
    using error::error;
};

}  // namespace edgebert
