//===- Json.cpp - A small JSON reader for chat messages and tool schemas --===//

#include "runtime/Json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace gemc {

JsonValue::JsonValue() = default;
JsonValue::~JsonValue() = default;
JsonValue::JsonValue(const JsonValue &) = default;
JsonValue::JsonValue(JsonValue &&) noexcept = default;
JsonValue &JsonValue::operator=(const JsonValue &) = default;
JsonValue &JsonValue::operator=(JsonValue &&) noexcept = default;

JsonValue JsonValue::string(std::string value) {
  JsonValue v;
  v.kind = Kind::String;
  v.text = std::move(value);
  return v;
}

JsonValue JsonValue::object() {
  JsonValue v;
  v.kind = Kind::Object;
  return v;
}

JsonValue &JsonValue::set(std::string key, JsonValue value) {
  for (JsonMember &member : members)
    if (member.key == key)
      return member.value = std::move(value);
  members.push_back({std::move(key), std::move(value)});
  return members.back().value;
}

const JsonValue *JsonValue::get(std::string_view key) const {
  for (const JsonMember &member : members)
    if (member.key == key)
      return &member.value;
  return nullptr;
}

bool JsonValue::truthy() const {
  switch (kind) {
  case Kind::Null: return false;
  case Kind::Bool: return boolean;
  case Kind::Number: return std::strtod(text.c_str(), nullptr) != 0;
  case Kind::String: return !text.empty();
  case Kind::Array: return !items.empty();
  case Kind::Object: return !members.empty();
  }
  return false;
}

namespace {

constexpr int kMaxDepth = 200;

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool parseDocument(JsonValue &out, std::string &error) {
    bool ok = value(out, 0) && (skipSpace(), at_ == text_.size() || fail("trailing characters"));
    if (!ok)
      error = where() + ": " + error_;
    return ok;
  }

private:
  bool fail(std::string message) {
    if (error_.empty())
      error_ = std::move(message);
    return false;
  }
  std::string where() const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < at_ && i < text_.size(); ++i, ++column)
      if (text_[i] == '\n')
        line += 1, column = 0;
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
  }
  void skipSpace() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' ||
                                  text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word)
      return fail("unexpected character");
    at_ += word.size();
    return true;
  }

  bool value(JsonValue &out, int depth) {
    if (depth > kMaxDepth)
      return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    skipSpace();
    if (at_ == text_.size())
      return fail("unexpected end of input");
    switch (text_[at_]) {
    case '{': return object(out, depth);
    case '[': return array(out, depth);
    case '"': out.kind = JsonValue::Kind::String; return string(out.text);
    case 't': out.kind = JsonValue::Kind::Bool; out.boolean = true; return literal("true");
    case 'f': out.kind = JsonValue::Kind::Bool; return literal("false");
    case 'n': out.kind = JsonValue::Kind::Null; return literal("null");
    default: return number(out);
    }
  }

  bool object(JsonValue &out, int depth) {
    out = JsonValue::object();
    ++at_;
    skipSpace();
    if (at_ < text_.size() && text_[at_] == '}')
      return ++at_, true;
    for (;;) {
      skipSpace();
      std::string key;
      if (at_ >= text_.size() || text_[at_] != '"')
        return fail("expected a string key");
      if (!string(key))
        return false;
      skipSpace();
      if (at_ >= text_.size() || text_[at_++] != ':')
        return fail("expected ':'");
      JsonValue member;
      if (!value(member, depth + 1))
        return false;
      out.set(std::move(key), std::move(member));
      if (!separator('}'))
        return error_.empty();
    }
  }

  bool array(JsonValue &out, int depth) {
    out.kind = JsonValue::Kind::Array;
    ++at_;
    skipSpace();
    if (at_ < text_.size() && text_[at_] == ']')
      return ++at_, true;
    for (;;) {
      out.items.emplace_back();
      if (!value(out.items.back(), depth + 1))
        return false;
      if (!separator(']'))
        return error_.empty();
    }
  }

  /// After a member or item: true on ',' (more follow); false on the closing bracket (done) or
  /// an error (then error_ is set).
  bool separator(char close) {
    skipSpace();
    if (at_ < text_.size() && text_[at_] == ',')
      return ++at_, true;
    if (at_ < text_.size() && text_[at_] == close)
      return ++at_, false;
    return fail(std::string("expected ',' or '") + close + "'");
  }

  bool number(JsonValue &out) {
    size_t start = at_;
    auto digits = [&] {
      size_t first = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9')
        ++at_;
      return at_ > first;
    };
    if (at_ < text_.size() && text_[at_] == '-')
      ++at_;
    bool leadingZero = at_ < text_.size() && text_[at_] == '0';
    if (!digits() || (leadingZero && at_ - start > size_t(text_[start] == '-') + 1))
      return fail("not a JSON value");
    if (at_ < text_.size() && text_[at_] == '.' && (++at_, !digits()))
      return fail("expected digits after '.'");
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-'))
        ++at_;
      if (!digits())
        return fail("expected digits in the exponent");
    }
    out.kind = JsonValue::Kind::Number;
    out.text = std::string(text_.substr(start, at_ - start));
    return true;
  }

  bool hex4(uint32_t &code) {
    if (at_ + 4 > text_.size())
      return fail("truncated \\u escape");
    auto [end, ec] = std::from_chars(text_.data() + at_, text_.data() + at_ + 4, code, 16);
    if (ec != std::errc() || end != text_.data() + at_ + 4)
      return fail("bad \\u escape");
    at_ += 4;
    return true;
  }

  static void appendUtf8(std::string &out, uint32_t code) {
    if (code < 0x80) {
      out += char(code);
    } else if (code < 0x800) {
      out += char(0xC0 | code >> 6);
      out += char(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += char(0xE0 | code >> 12);
      out += char(0x80 | (code >> 6 & 0x3F));
      out += char(0x80 | (code & 0x3F));
    } else {
      out += char(0xF0 | code >> 18);
      out += char(0x80 | (code >> 12 & 0x3F));
      out += char(0x80 | (code >> 6 & 0x3F));
      out += char(0x80 | (code & 0x3F));
    }
  }

  bool escape(std::string &out) {
    if (at_ >= text_.size())
      return fail("unterminated string");
    char c = text_[at_++];
    static constexpr std::string_view kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
    if (size_t i = kFrom.find(c); i != std::string_view::npos && c != 'u')
      return out += kTo[i], true;
    if (c != 'u')
      return fail("bad escape");
    uint32_t code = 0, low = 0;
    if (!hex4(code))
      return false;
    if (code >= 0xD800 && code < 0xDC00) { // a surrogate pair spells one code point
      if (text_.substr(at_, 2) != "\\u" || (at_ += 2, !hex4(low)) || low < 0xDC00 || low > 0xDFFF)
        return fail("unpaired surrogate in \\u escape");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    } else if (code >= 0xDC00 && code < 0xE000) {
      return fail("unpaired surrogate in \\u escape");
    }
    appendUtf8(out, code);
    return true;
  }

  bool string(std::string &out) {
    ++at_; // the opening quote
    while (at_ < text_.size()) {
      char c = text_[at_++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in a string");
      if (c != '\\')
        out += c;
      else if (!escape(out))
        return false;
    }
    return fail("unterminated string");
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string error_;
};

} // namespace

bool parseJson(std::string_view text, JsonValue &out, std::string &error) {
  out = JsonValue();
  return Parser(text).parseDocument(out, error);
}

std::string pythonNumber(const std::string &spelling) {
  if (spelling.find_first_of(".eE") == std::string::npos) // an int: Python prints its digits
    return spelling == "-0" ? "0" : spelling;
  double value = std::strtod(spelling.c_str(), nullptr);
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string scientific(buffer, result.ptr);
  // "-1.2345e-05": sign, digits without the point, decimal exponent.
  bool negative = scientific[0] == '-';
  size_t e = scientific.find('e');
  std::string digits = scientific.substr(negative, e - negative);
  if (digits.size() > 1)
    digits.erase(1, 1); // the point
  int exponent = std::atoi(scientific.c_str() + e + 1);
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) { // repr switches to exponent notation here
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    std::string power = std::to_string(std::abs(exponent));
    return out + (exponent < 0 ? "e-" : "e+") + (power.size() < 2 ? "0" : "") + power;
  }
  if (exponent < 0)
    return out + "0." + std::string(size_t(-exponent - 1), '0') + digits;
  if (digits.size() <= size_t(exponent) + 1)
    return out + digits + std::string(size_t(exponent) + 1 - digits.size(), '0') + ".0";
  return out + digits.substr(0, size_t(exponent) + 1) + "." + digits.substr(size_t(exponent) + 1);
}

} // namespace gemc
