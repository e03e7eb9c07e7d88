//===- JsonFieldsTest.cpp - Strict JSON parsing of checkpoint files --------===//

#include "frontends/JsonFields.h"

#include <gtest/gtest.h>

using namespace gemc;

namespace {
/// parseJsonStrictly's error for `text`, or "" if it parses.
std::string strictError(llvm::StringRef text) {
  llvm::Expected<llvm::json::Value> value = parseJsonStrictly(text);
  return value ? "" : llvm::toString(value.takeError());
}
} // namespace

TEST(JsonFields, RefusesAKeyGivenTwiceInOneObject) {
  EXPECT_EQ(strictError(R"({"a": 1, "b": 2, "a": 3})"), "the key 'a' appears twice in one object");
  EXPECT_EQ(strictError(R"({"x": {"a": 1, "a": 1}})"), "the key 'a' appears twice in one object");
  EXPECT_EQ(strictError(R"([{"k": 1}, {"k": 2, "z": [{"k": 0, "k": 0}]}])"),
            "the key 'k' appears twice in one object");
  // The same key spelled with an escape is the same key.
  EXPECT_EQ(strictError(R"({"a": 1, "\u0061": 2})"), "the key 'a' appears twice in one object");
}

TEST(JsonFields, AcceptsTheSameKeyInDifferentObjectsAndKeysInsideStrings) {
  EXPECT_EQ(strictError(R"({"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]})"), "");
  EXPECT_EQ(strictError(R"({"s": "\"a\": 1, \"a\": 2", "t": "{\"a\""})"), "");
  EXPECT_EQ(strictError(R"({"a\"b": 1, "a\\b": 2, "": 3})"), "");
  EXPECT_EQ(strictError("[]"), "");
  EXPECT_NE(strictError(R"({"a": )"), ""); // plain syntax errors still come from the parser
}
