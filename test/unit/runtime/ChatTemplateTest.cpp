//===- ChatTemplateTest.cpp - The Gemma 4 chat format ----------------------===//
//
// test/data/chat/gemma4-renders.json holds conversations and their renders by the released
// chat_template.jinja files (google/gemma-4-E2B-it and -31B-it, sha256 0a2c8073... and
// ae53464b...) under jinja2 3.1.6 with Hugging Face's apply_chat_template settings.

#include "runtime/ChatTemplate.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace gemc {
namespace {

JsonValue loadCases() {
  std::ifstream file(std::string(GEMC_TEST_DATA_DIR) + "/chat/gemma4-renders.json");
  std::stringstream text;
  text << file.rdbuf();
  JsonValue cases;
  std::string error;
  EXPECT_TRUE(file && parseJson(text.str(), cases, error)) << error;
  return cases;
}

std::string render(const JsonValue &request, ChatVariant variant) {
  std::string out, error;
  EXPECT_TRUE(renderChat(request, variant, out, error)) << error;
  return out;
}

JsonValue message(const char *role, const std::string &content) {
  JsonValue m = JsonValue::object();
  m.set("role", JsonValue::string(role));
  m.set("content", JsonValue::string(content));
  return m;
}

TEST(ChatTemplateTest, MatchesTheReleasedTemplates) {
  JsonValue cases = loadCases();
  ASSERT_GE(cases.items.size(), 12u);
  for (const JsonValue &c : cases.items) {
    std::string name = c.get("name")->text;
    EXPECT_EQ(render(c, ChatVariant::Small), c.get("expected")->text) << name;
    EXPECT_EQ(render(c, ChatVariant::Large), c.get("expected_large")->text) << name;
  }
}

// A live chat appends renderNextUserTurn after the model's reply; that must be what rendering
// the whole conversation gives (the E-series template; with the large one the empty thought
// channel of earlier turns is not re-rendered, a difference the KV cache keeps).
TEST(ChatTemplateTest, NextUserTurnContinuesTheConversation) {
  for (bool thinking : {false, true}) {
    JsonValue request = JsonValue::object(), yes;
    yes.kind = JsonValue::Kind::Bool;
    yes.boolean = true;
    request.set("add_generation_prompt", yes);
    if (thinking)
      request.set("enable_thinking", yes);
    JsonValue &messages = request.set("messages", JsonValue());
    messages.kind = JsonValue::Kind::Array;
    messages.items.push_back(message("system", "Be brief."));
    messages.items.push_back(message("user", "Hi!"));
    std::string first = render(request, ChatVariant::Small);
    messages.items.push_back(message("assistant", "Hello, how can I help?"));
    messages.items.push_back(message("user", "  Tell me a joke. "));
    std::string second = render(request, ChatVariant::Small);
    EXPECT_EQ(second, first + "Hello, how can I help?" +
                          renderNextUserTurn("  Tell me a joke. ", ChatVariant::Small, thinking));
  }
}

TEST(ChatTemplateTest, RejectsMalformedRequests) {
  const char *broken[] = {
      R"({"messages": 3})",
      R"({"messages": [{"content": "no role"}]})",
      R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{\"a\": 1}"}}]}]})",
      R"({"messages": [{"role": "assistant", "tool_calls": [{"id": 1}]}]})",
      R"({"messages": [], "tools": {"name": "f"}})"};
  for (const char *text : broken) {
    JsonValue request;
    std::string error, out;
    ASSERT_TRUE(parseJson(text, request, error)) << error;
    EXPECT_FALSE(renderChat(request, ChatVariant::Small, out, error)) << text;
    EXPECT_FALSE(error.empty());
  }
}

} // namespace
} // namespace gemc
