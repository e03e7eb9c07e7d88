//===- JsonFields.cpp - Typed, validated reads of JSON config fields ------===//

#include "frontends/JsonFields.h"

#include <llvm/ADT/StringSet.h>
#include <llvm/Support/MemoryBuffer.h>

#include <vector>

namespace gemc {
namespace {

/// The text of a JSON string literal (quotes included) with its escapes decoded.
std::string decodeString(llvm::StringRef literal) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(literal);
  if (!value) {
    llvm::consumeError(value.takeError());
    return literal.str();
  }
  return value->getAsString()->str();
}

/// The first key that some object of `text` (valid JSON) has twice, decoded.
std::optional<std::string> findDuplicateKey(llvm::StringRef text) {
  struct Level {
    bool object;
    bool expectingKey;
    llvm::StringSet<> keys;
  };
  std::vector<Level> levels;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' || c == '[') {
      levels.push_back({c == '{', c == '{', {}});
    } else if (c == '}' || c == ']') {
      levels.pop_back();
    } else if (c == ',' && levels.back().object) {
      levels.back().expectingKey = true;
    } else if (c == '"') {
      size_t end = i + 1;
      bool escaped = false;
      for (; text[end] != '"'; ++end)
        if (text[end] == '\\') {
          escaped = true;
          ++end;
        }
      if (!levels.empty() && levels.back().expectingKey) {
        levels.back().expectingKey = false;
        std::string key = escaped ? decodeString(text.slice(i, end + 1))
                                  : text.slice(i + 1, end).str();
        if (!levels.back().keys.insert(key).second)
          return key;
      }
      i = end;
    }
  }
  return std::nullopt;
}

} // namespace

llvm::Expected<llvm::json::Value> parseJsonStrictly(llvm::StringRef text) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(text);
  if (!value)
    return value.takeError();
  if (std::optional<std::string> key = findDuplicateKey(text))
    return makeError("the key '{}' appears twice in one object", *key);
  return value;
}

llvm::Expected<llvm::json::Value> parseJsonObject(llvm::StringRef text, const std::string &path) {
  llvm::Expected<llvm::json::Value> json = parseJsonStrictly(text);
  if (!json)
    return makeError("{}: not valid JSON: {}", path, llvm::toString(json.takeError()));
  if (!json->getAsObject())
    return makeError("{}: expected a JSON object at the top level", path);
  return json;
}

llvm::Expected<llvm::json::Value> loadJsonObject(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError("{}: cannot open: {}", path, buffer.getError().message());
  return parseJsonObject((*buffer)->getBuffer(), path);
}

} // namespace gemc
