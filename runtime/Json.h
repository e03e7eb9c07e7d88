//===- Json.h - A small JSON reader for chat messages and tool schemas ----===//
//
// The runtime reads chat conversations and tool declarations (files given to `gemc chat
// --tools`, strings passed through the C API) without LLVM. The chat template needs two things
// general JSON libraries drop: object members in their input order, and a number's spelling
// (Gemma's template prints `2` and `2.0` differently, as Python does). Depth is bounded so a
// hostile file cannot exhaust the stack.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gemc {

struct JsonMember;

struct JsonValue {
  JsonValue();
  ~JsonValue();
  JsonValue(const JsonValue &);
  JsonValue(JsonValue &&) noexcept;
  JsonValue &operator=(const JsonValue &);
  JsonValue &operator=(JsonValue &&) noexcept;

  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text; // a string's value, or a number as written
  std::vector<JsonValue> items;
  std::vector<JsonMember> members; // in input order; a later duplicate key replaces the value

  static JsonValue string(std::string value);
  static JsonValue object();
  /// Adds or replaces a member; returns it.
  JsonValue &set(std::string key, JsonValue value);

  bool isNull() const { return kind == Kind::Null; }
  bool isString() const { return kind == Kind::String; }
  bool isObject() const { return kind == Kind::Object; }
  bool isArray() const { return kind == Kind::Array; }
  /// The member `key` of an object, or null if absent (or this is not an object).
  const JsonValue *get(std::string_view key) const;
  /// Python truthiness: false for null, false, 0, "", [] and {}.
  bool truthy() const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

/// Parses `text` (one JSON value, surrounding whitespace allowed); on failure returns false and
/// an error naming the line and column.
bool parseJson(std::string_view text, JsonValue &out, std::string &error);

/// A JSON number as Python's str() prints it after json.loads: integers as their digits,
/// fractions and exponents as the shortest repr of the double ("1.0", "1e+20", "0.0001").
std::string pythonNumber(const std::string &spelling);

} // namespace gemc
