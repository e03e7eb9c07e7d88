//===- JsonTest.cpp - The runtime's JSON reader ----------------------------===//

#include "runtime/Json.h"

#include <gtest/gtest.h>

namespace gemc {
namespace {

TEST(JsonTest, KeepsOrderAndNumberSpelling) {
  JsonValue v;
  std::string error;
  ASSERT_TRUE(parseJson(R"( {"b": 2.0, "a": [1, "x\u00e9\ud83d\ude00", null, true], "b": 3} )", v,
                        error))
      << error;
  ASSERT_EQ(v.members.size(), 2u);
  EXPECT_EQ(v.members[0].key, "b");
  EXPECT_EQ(v.members[0].value.text, "3"); // a later duplicate replaces the value
  const JsonValue &a = *v.get("a");
  EXPECT_EQ(a.items[0].text, "1");
  EXPECT_EQ(a.items[1].text, "x\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_TRUE(a.items[2].isNull());
  EXPECT_TRUE(a.items[3].boolean);
}

TEST(JsonTest, RejectsBrokenInputWithAPosition) {
  const char *broken[] = {"",         "{",          "[1,]",      "{\"a\" 1}", "01",
                          "1.",       "\"\\x\"",    "\"\\ud800\"", "tru",     "[1] 2",
                          "\"a\nb\"", "{\"a\":}",   "-",         "1e"};
  for (const char *text : broken) {
    JsonValue v;
    std::string error;
    EXPECT_FALSE(parseJson(text, v, error)) << text;
    EXPECT_NE(error.find("line "), std::string::npos) << text << ": " << error;
  }
  std::string deep(1000, '[');
  JsonValue v;
  std::string error;
  EXPECT_FALSE(parseJson(deep, v, error));
  EXPECT_NE(error.find("nested deeper"), std::string::npos) << error;
}

TEST(JsonTest, NumbersPrintAsPythonDoes) {
  // Expected values are Python 3's str(json.loads(x)).
  const std::pair<const char *, const char *> cases[] = {
      {"2", "2"},           {"-0", "0"},          {"2.0", "2.0"},     {"2.50", "2.5"},
      {"1e20", "1e+20"},    {"1E+20", "1e+20"},   {"0.0001", "0.0001"}, {"0.00001", "1e-05"},
      {"1e-7", "1e-07"},    {"100.0", "100.0"},   {"1.5e16", "1.5e+16"}, {"1e15", "1000000000000000.0"},
      {"-0.0", "-0.0"},     {"0.1", "0.1"},       {"123456789012345678901", "123456789012345678901"},
      {"3.14159", "3.14159"}, {"1e308", "1e+308"}, {"1e400", "inf"}};
  for (auto [spelling, expected] : cases)
    EXPECT_EQ(pythonNumber(spelling), expected) << spelling;
}

} // namespace
} // namespace gemc
