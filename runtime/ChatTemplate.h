//===- ChatTemplate.h - The Gemma 4 chat format ---------------------------===//
//
// Renders a conversation the way Gemma 4's chat_template.jinja does, byte for byte, without a
// template engine (gemma4-architecture.md §6): `<bos>`, an optional system turn (thinking switch,
// system text, tool declarations), `<|turn>ROLE\n…<turn|>\n` turns with earlier thinking
// stripped from model turns, tool calls and tool responses inside the model turn, and the
// generation prompt. The E-series and the large models differ in one place: with thinking off,
// the large template opens the model turn with an empty thought channel.
//
// The request is the JSON Hugging Face's apply_chat_template takes: {"messages": [...], "tools":
// [...], "enable_thinking": bool, "add_generation_prompt": bool, "preserve_thinking": bool}.
// Known differences from Python: key sorting and trimming use ASCII case folding and Python's
// whitespace set, as the template does for the ASCII keys of JSON schemas.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Json.h"

#include <string>
#include <string_view>

namespace gemc {

enum class ChatVariant { Small, Large }; // E2B/E4B, or 26B-A4B/31B

/// Parses an artifact's manifest spelling ("gemma4", "gemma4-large").
bool parseChatVariant(std::string_view name, ChatVariant &variant);

/// Renders `request`; on failure (a malformed message) returns false and an error.
bool renderChat(const JsonValue &request, ChatVariant variant, std::string &out,
                std::string &error);

/// What a live conversation appends for the user's next message, after the model's last reply
/// (whose end-of-turn token was sampled but not yet evaluated): the end of that model turn, the
/// user turn and the generation prompt. Equal to the difference between rendering the
/// conversation with and without the new message.
std::string renderNextUserTurn(std::string_view text, ChatVariant variant, bool thinking);

} // namespace gemc
