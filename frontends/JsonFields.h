//===- JsonFields.h - Typed, validated reads of JSON config fields --------===//
//
// FieldReader reads the fields of one object of a Hugging Face JSON config (config.json,
// generation_config.json) and keeps the first error, worded for a person: the file, the field
// and what was expected and found. Absent and null fields keep the caller's default, as in
// Transformers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/Error.h"

#include <llvm/Support/JSON.h>

#include <optional>
#include <string>
#include <string_view>

namespace gemc {

/// llvm::json::parse, and also an error for an object with the same key twice: llvm::json keeps
/// one of them silently, so a checkpoint could name a tensor twice or a config set a field
/// twice and gemc would pick one without a word.
llvm::Expected<llvm::json::Value> parseJsonStrictly(llvm::StringRef text);

/// parseJsonStrictly of the file `path`, which must hold an object at its top level; errors
/// name the file.
llvm::Expected<llvm::json::Value> loadJsonObject(const std::string &path);
/// The same for `text` read from `path`.
llvm::Expected<llvm::json::Value> parseJsonObject(llvm::StringRef text, const std::string &path);

inline std::string_view jsonKind(const llvm::json::Value &value) {
  switch (value.kind()) {
  case llvm::json::Value::Null: return "null";
  case llvm::json::Value::Boolean: return "a boolean";
  case llvm::json::Value::Number: return "a number";
  case llvm::json::Value::String: return "a string";
  case llvm::json::Value::Array: return "an array";
  case llvm::json::Value::Object: return "an object";
  }
  return "a value";
}

// Far above any Gemma 4 model, and low enough that products of sizes cannot overflow.
constexpr int64_t kMaxLayers = 1024, kMaxDimension = int64_t(1) << 24;

/// Reads typed fields of one JSON object and keeps the first error. Absent and null fields keep
/// the caller's default, as in Transformers.
class FieldReader {
public:
  /// `firstError` is shared by the readers of nested objects.
  FieldReader(const llvm::json::Object &object, std::string path, std::string prefix,
              std::optional<std::string> &firstError)
      : object_(object), path_(std::move(path)), prefix_(std::move(prefix)),
        error_(firstError) {}

  /// A reader for the object in field `key`, sharing this reader's error.
  FieldReader nested(const llvm::json::Object &object, llvm::StringRef key) {
    return FieldReader(object, path_, field(key) + ".", error_);
  }

  void integer(llvm::StringRef key, int64_t &out, bool required = false) {
    read(key, out, "an integer", required);
  }
  void number(llvm::StringRef key, double &out) { read(key, out, "a number"); }
  void boolean(llvm::StringRef key, bool &out) { read(key, out, "a boolean"); }
  void optionalInteger(llvm::StringRef key, std::optional<int64_t> &out) {
    readOptional(key, out, "an integer");
  }
  void optionalNumber(llvm::StringRef key, std::optional<double> &out) {
    readOptional(key, out, "a number");
  }
  void optionalString(llvm::StringRef key, std::optional<std::string> &out) {
    readOptional(key, out, "a string");
  }
  /// The value of `key` unless it is absent or null.
  const llvm::json::Value *raw(llvm::StringRef key) {
    return present(key) ? object_.get(key) : nullptr;
  }
  std::string field(llvm::StringRef key) const { return prefix_ + key.str(); }
  /// Fails when a size field is above what gemc accepts (a corrupt or hostile config).
  void checkAtMost(llvm::StringRef key, int64_t value, int64_t limit) {
    if (value > limit)
      fail(fmt::format("field '{}' is {}, more than gemc accepts ({})", field(key), value, limit));
  }
  /// Fails unless a size field is in [1, kMaxDimension].
  void checkSize(llvm::StringRef key, int64_t value) {
    if (value <= 0)
      fail(fmt::format("field '{}' must be positive, found {}", field(key), value));
    checkAtMost(key, value, kMaxDimension);
  }
  void fail(std::string message) {
    if (!error_)
      error_ = fmt::format("{}: {}", path_, message);
  }
  llvm::Error takeError() {
    return error_ ? makeError("{}", *error_) : llvm::Error::success();
  }

private:
  bool present(llvm::StringRef key) const {
    const llvm::json::Value *value = object_.get(key);
    return value && value->kind() != llvm::json::Value::Null;
  }
  static std::optional<int64_t> convert(const llvm::json::Value &v, int64_t *) {
    return v.getAsInteger();
  }
  static std::optional<double> convert(const llvm::json::Value &v, double *) {
    return v.getAsNumber();
  }
  static std::optional<bool> convert(const llvm::json::Value &v, bool *) {
    return v.getAsBoolean();
  }
  static std::optional<std::string> convert(const llvm::json::Value &v, std::string *) {
    if (std::optional<llvm::StringRef> text = v.getAsString())
      return text->str();
    return std::nullopt;
  }

  /// Sets `out` from field `key` if it is present; a value of another type is an error.
  template <typename T>
  void read(llvm::StringRef key, T &out, std::string_view expected, bool required = false) {
    const llvm::json::Value *value = lookup(key, required, expected);
    if (!value)
      return;
    if (std::optional<T> converted = convert(*value, static_cast<T *>(nullptr)))
      out = *converted;
    else
      wrongType(key, expected, *value);
  }
  template <typename T>
  void readOptional(llvm::StringRef key, std::optional<T> &out, std::string_view expected) {
    if (!present(key))
      return;
    T value{};
    read(key, value, expected);
    out = value;
  }

  const llvm::json::Value *lookup(llvm::StringRef key, bool required, std::string_view expected) {
    if (present(key))
      return object_.get(key);
    if (required)
      fail(fmt::format("required field '{}' ({}) is missing", field(key), expected));
    return nullptr;
  }
  void wrongType(llvm::StringRef key, std::string_view expected, const llvm::json::Value &value) {
    fail(fmt::format("field '{}': expected {}, found {}", field(key), expected, jsonKind(value)));
  }

  const llvm::json::Object &object_;
  std::string path_, prefix_;
  std::optional<std::string> &error_;
};

} // namespace gemc
