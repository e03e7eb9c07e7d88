//===- ChatTemplate.cpp - The Gemma 4 chat format -------------------------===//

#include "runtime/ChatTemplate.h"

#include <algorithm>

namespace gemc {
namespace {

constexpr std::string_view kQuote = "<|\"|>";

/// The length of the UTF-8 character ending at `end` (exclusive).
size_t lastCharLength(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80)
    --start;
  return end - start;
}

/// Python's str.isspace() for the character at the start of `s` (by its UTF-8 spelling).
bool isPythonSpace(std::string_view c) {
  static constexpr std::string_view kWide[] = {
      "\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81",
      "\xE2\x80\x82", "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86",
      "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8",
      "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"};
  if (c.size() == 1)
    return (c[0] >= '\t' && c[0] <= '\r') || (c[0] >= '\x1c' && c[0] <= '\x1f') || c[0] == ' ';
  return std::find(std::begin(kWide), std::end(kWide), c) != std::end(kWide);
}

size_t charLength(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

/// Python's str.strip().
std::string trim(std::string_view s) {
  size_t begin = 0, end = s.size();
  while (begin < end) {
    size_t n = std::min(charLength(s[begin]), end - begin);
    if (!isPythonSpace(s.substr(begin, n)))
      break;
    begin += n;
  }
  while (end > begin) {
    size_t n = lastCharLength(s, end);
    if (!isPythonSpace(s.substr(end - n, n)))
      break;
    end -= n;
  }
  return std::string(s.substr(begin, end - begin));
}

std::string lower(std::string s) {
  for (char &c : s)
    c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  return s;
}

/// jinja's dictsort: members ordered by case-folded key, stable.
std::vector<const JsonMember *> sortedMembers(const JsonValue &object) {
  std::vector<const JsonMember *> sorted;
  for (const auto &member : object.members)
    sorted.push_back(&member);
  // Stable: equal folded keys keep their order (members are contiguous, so by address).
  std::sort(sorted.begin(), sorted.end(), [](auto *a, auto *b) {
    std::string x = lower(a->key), y = lower(b->key);
    return x != y ? x < y : a < b;
  });
  return sorted;
}

/// jinja's `{{ value }}` of a scalar.
std::string printed(const JsonValue *value) {
  if (!value || value->isNull())
    return value ? "None" : "";
  if (value->kind == JsonValue::Kind::Bool)
    return value->boolean ? "True" : "False";
  if (value->kind == JsonValue::Kind::Number)
    return pythonNumber(value->text);
  return value->text;
}

/// `value | upper`: Python's str(value).upper(); a list prints as its repr.
std::string upper(const JsonValue *value) {
  std::string text;
  if (value && value->isArray()) {
    text = "[";
    for (size_t i = 0; i < value->items.size(); ++i)
      text += (i ? ", '" : "'") + printed(&value->items[i]) + "'";
    text += "]";
  } else {
    text = printed(value);
  }
  for (char &c : text)
    c = (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
  return text;
}

bool truthy(const JsonValue *value) { return value && value->truthy(); }

/// `text` between the template's string delimiters.
std::string quoted(std::string_view text) {
  std::string out(kQuote);
  out += text;
  out += kQuote;
  return out;
}

/// The template's format_argument macro.
std::string formatArgument(const JsonValue &value, bool escapeKeys) {
  switch (value.kind) {
  case JsonValue::Kind::Null: return "null";
  case JsonValue::Kind::String: return quoted(value.text);
  case JsonValue::Kind::Bool: return value.boolean ? "true" : "false";
  case JsonValue::Kind::Number: return pythonNumber(value.text);
  case JsonValue::Kind::Object: {
    std::string out = "{";
    for (const auto *member : sortedMembers(value)) {
      out += out.size() > 1 ? "," : "";
      out += escapeKeys ? quoted(member->key) : member->key;
      out += ":" + formatArgument(member->value, escapeKeys);
    }
    return out + "}";
  }
  case JsonValue::Kind::Array: {
    std::string out = "[";
    for (size_t i = 0; i < value.items.size(); ++i)
      out += (i ? "," : "") + formatArgument(value.items[i], escapeKeys);
    return out + "]";
  }
  }
  return "";
}

/// `key:value,…` of an object, keys sorted and unquoted (tool-call arguments and responses).
std::string formatRawMembers(const JsonValue &object) {
  std::string out;
  for (const auto *member : sortedMembers(object))
    out += (out.empty() ? "" : ",") + member->key + ":" + formatArgument(member->value, false);
  return out;
}

std::string quotedList(const JsonValue *list) {
  std::string out = "[";
  for (size_t i = 0; list && list->isArray() && i < list->items.size(); ++i) {
    out += i ? "," : "";
    out += quoted(printed(&list->items[i]));
  }
  return out + "]";
}

std::string formatParameters(const JsonValue &properties, bool filterKeys);

/// The `items:{…}` of an array property.
std::string formatItems(const JsonValue &items) {
  std::string out;
  for (const auto *member : sortedMembers(items)) {
    const auto &[key, value] = *member;
    if (value.isNull())
      continue;
    out += out.empty() ? "" : ",";
    if (key == "properties") {
      out += "properties:{" + (value.isObject() ? formatParameters(value, false) : "") + "}";
    } else if (key == "required") {
      out += "required:" + quotedList(&value);
    } else if (key == "type" && value.isString()) {
      out += "type:" + formatArgument(JsonValue::string(upper(&value)), true);
    } else if (key == "type") {
      JsonValue list;
      list.kind = JsonValue::Kind::Array;
      for (const JsonValue &item : value.items)
        list.items.push_back(JsonValue::string(upper(&item)));
      out += "type:" + formatArgument(list, true);
    } else {
      out += key + ":" + formatArgument(value, true);
    }
  }
  return out;
}

/// One property of a schema: description, enum or items, nullable, nested object, type.
std::string formatProperty(const JsonValue &value) {
  std::vector<std::string> fields;
  std::string type = upper(value.get("type"));
  if (truthy(value.get("description")))
    fields.push_back("description:" + quoted(printed(value.get("description"))));
  const JsonValue *items = value.get("items");
  if (type == "STRING" && truthy(value.get("enum")))
    fields.push_back("enum:" + formatArgument(*value.get("enum"), true));
  else if (type == "ARRAY" && items && items->isObject() && items->truthy())
    fields.push_back("items:{" + formatItems(*items) + "}");
  if (truthy(value.get("nullable")))
    fields.push_back("nullable:true");
  if (type == "OBJECT") {
    const JsonValue *nested = value.get("properties");
    fields.push_back("properties:{" +
                     (nested && nested->isObject() ? formatParameters(*nested, false)
                                                   : formatParameters(value, true)) +
                     "}");
    if (truthy(value.get("required")))
      fields.push_back("required:" + quotedList(value.get("required")));
  }
  fields.push_back("type:" + quoted(type));
  std::string out;
  for (const std::string &field : fields)
    out += (out.empty() ? "" : ",") + field;
  return out;
}

/// The template's format_parameters macro over a JSON-schema `properties` object.
std::string formatParameters(const JsonValue &properties, bool filterKeys) {
  static constexpr std::string_view kStandard[] = {"description", "type", "properties",
                                                   "required", "nullable"};
  std::string out;
  for (const auto *member : sortedMembers(properties)) {
    if (filterKeys &&
        std::find(std::begin(kStandard), std::end(kStandard), member->key) != std::end(kStandard))
      continue;
    if (!member->value.isObject())
      continue; // the template would fail on a non-object property; skip it
    out += (out.empty() ? "" : ",") + member->key + ":{" + formatProperty(member->value) + "}";
  }
  return out;
}

/// `declaration:NAME{description:…,parameters:{…}}` for one tool; accepts the OpenAI wrapper
/// {"type": "function", "function": {...}} or the bare function object.
std::string formatDeclaration(const JsonValue &tool) {
  const JsonValue *wrapped = tool.get("function");
  const JsonValue &function = wrapped && wrapped->isObject() ? *wrapped : tool;
  std::string out = "declaration:" + printed(function.get("name")) +
                    "{description:" + quoted(printed(function.get("description")));
  if (const JsonValue *params = function.get("parameters"); truthy(params)) {
    out += ",parameters:{";
    if (const JsonValue *props = params->get("properties"); truthy(props) && props->isObject())
      out += "properties:{" + formatParameters(*props, false) + "},";
    if (truthy(params->get("required")))
      out += "required:" + quotedList(params->get("required")) + ",";
    if (truthy(params->get("type")))
      out += "type:" + quoted(upper(params->get("type"))) + "}";
  }
  if (const JsonValue *response = function.get("response")) {
    out += ",response:{";
    if (truthy(response->get("description")))
      out += "description:" + quoted(printed(response->get("description"))) + ",";
    if (upper(response->get("type")) == "OBJECT")
      out += "type:" + quoted("OBJECT") + "}";
  }
  return out + "}";
}

/// The template's strip_thinking: drops every `<|channel>…<channel|>` span, then trims.
std::string stripThinking(std::string_view text) {
  std::string result;
  size_t start = 0;
  for (;;) {
    size_t close = text.find("<channel|>", start);
    std::string_view part = text.substr(start, close == std::string_view::npos ? close : close - start);
    result += part.substr(0, part.find("<|channel>"));
    if (close == std::string_view::npos)
      return trim(result);
    start = close + std::string_view("<channel|>").size();
  }
}

std::string mediaPlaceholder(const std::string &type) {
  if (type == "image" || type == "image_url")
    return "<|image|>";
  if (type == "audio" || type == "input_audio")
    return "<|audio|>";
  return type == "video" ? "<|video|>" : "";
}

std::string partType(const JsonValue &part) {
  const JsonValue *type = part.get("type");
  return type && type->isString() ? type->text : "";
}

/// A message's content: text trimmed (model text with thinking stripped), media placeholders.
std::string renderContent(const JsonValue *content, bool model) {
  auto text = [&](std::string_view s) { return model ? stripThinking(s) : trim(s); };
  if (content && content->isString())
    return text(content->text);
  std::string out;
  for (size_t i = 0; content && content->isArray() && i < content->items.size(); ++i) {
    const JsonValue &part = content->items[i];
    out += partType(part) == "text" ? text(printed(part.get("text"))) : mediaPlaceholder(partType(part));
  }
  return out;
}

std::string toolResponseBlock(const std::string &name, const JsonValue &response) {
  return "<|tool_response>response:" + name + "{" +
         (response.isObject() ? formatRawMembers(response)
                              : "value:" + formatArgument(response, false)) +
         "}<tool_response|>";
}

std::string role(const JsonValue &message) { return printed(message.get("role")); }

/// The responses to an assistant message's tool calls: its own `tool_responses`, or the run
/// of `tool` messages after it. Returns whether any was written.
bool renderToolResponses(const std::vector<const JsonValue *> &messages, size_t index,
                         std::string &out) {
  const JsonValue &message = *messages[index];
  if (const JsonValue *legacy = message.get("tool_responses"); truthy(legacy)) {
    for (const JsonValue &response : legacy->items) {
      std::string name = printed(response.get("name"));
      out += toolResponseBlock(name.empty() ? "unknown" : name,
                               response.get("response") ? *response.get("response") : JsonValue());
    }
    return !legacy->items.empty();
  }
  const JsonValue *calls = message.get("tool_calls");
  if (!truthy(calls))
    return false;
  bool wrote = false;
  for (size_t k = index + 1; k < messages.size() && role(*messages[k]) == "tool"; ++k) {
    const JsonValue &tool = *messages[k];
    std::string name = truthy(tool.get("name")) ? printed(tool.get("name")) : "unknown";
    for (const JsonValue &call : calls->items) { // Python's None == None matches too
      const JsonValue *id = call.get("id"), *wanted = tool.get("tool_call_id");
      bool bothNone = (!id || id->isNull()) && (!wanted || wanted->isNull());
      if (bothNone || (id && wanted && id->kind == wanted->kind && id->text == wanted->text))
        if (const JsonValue *function = call.get("function"))
          name = printed(function->get("name"));
    }
    const JsonValue *body = tool.get("content");
    if (body && body->isArray()) {
      std::string text, media;
      for (const JsonValue &part : body->items) {
        if (partType(part) == "text")
          text += printed(part.get("text"));
        media += mediaPlaceholder(partType(part));
      }
      out += toolResponseBlock(name, JsonValue::string(text)) + media;
    } else {
      out += toolResponseBlock(name, body ? *body : JsonValue());
    }
    wrote = true;
  }
  return wrote;
}

bool renderToolCalls(const JsonValue &calls, std::string &out, std::string &error) {
  for (const JsonValue &call : calls.items) {
    const JsonValue *function = call.get("function");
    if (!function || !function->isObject()) {
      error = "a tool call has no \"function\" object";
      return false;
    }
    out += "<|tool_call>call:" + printed(function->get("name")) + "{";
    const JsonValue *arguments = function->get("arguments");
    if (arguments && arguments->isObject()) {
      out += formatRawMembers(*arguments);
    } else if (arguments && !arguments->isNull()) {
      error = "tool_calls[].function.arguments must be a JSON object, not a string";
      return false;
    }
    out += "}<tool_call|>";
  }
  return true;
}

/// Where the previous message left the conversation; decides the generation prompt.
enum class LastMessage { Plain, ToolCall, ToolResponse };

struct RenderState {
  std::vector<const JsonValue *> messages; // after the system message
  std::string previousNonToolRole;
  LastMessage last = LastMessage::Plain;
};

std::string nextNonToolRole(const RenderState &state, size_t index, bool &found) {
  for (size_t j = index + 1; j < state.messages.size(); ++j)
    if (role(*state.messages[j]) != "tool")
      return found = true, role(*state.messages[j]);
  return found = false, "";
}

bool renderMessage(RenderState &state, size_t index, int64_t lastUser, bool preserveThinking,
                   std::string &out, std::string &error) {
  const JsonValue &message = *state.messages[index];
  std::string name = role(message) == "assistant" ? "model" : role(message);
  state.last = LastMessage::Plain;
  if (!(name == "model" && state.previousNonToolRole == "assistant"))
    out += "<|turn>" + name + "\n";
  const JsonValue *thinking = truthy(message.get("reasoning")) ? message.get("reasoning")
                                                               : message.get("reasoning_content");
  const JsonValue *calls = message.get("tool_calls");
  bool current = int64_t(index) > lastUser || (preserveThinking && truthy(calls));
  if (truthy(thinking) && current)
    out += "<|channel>thought\n" + printed(thinking) + "\n<channel|>";
  if (truthy(calls)) {
    if (!calls->isArray() || !renderToolCalls(*calls, out, error))
      return error = error.empty() ? "tool_calls must be a list" : error, false;
    state.last = LastMessage::ToolCall;
  }
  bool responded = renderToolResponses(state.messages, index, out);
  if (responded)
    state.last = LastMessage::ToolResponse;
  std::string content = renderContent(message.get("content"), name == "model");
  out += content;
  bool hasContent = !trim(content).empty(), hasNext = false;
  std::string next = nextNonToolRole(state, index, hasNext);
  if (state.last == LastMessage::ToolCall)
    out += "<|tool_response>";
  else if (name == "model" && next == "assistant" && (!truthy(calls) || responded))
    ; // the next assistant message continues this model turn
  else if (!(responded && !hasContent && !hasNext))
    out += "<turn|>\n";
  state.previousNonToolRole = role(message);
  return true;
}

/// The system turn: thinking switch, the first message if it is system/developer, the tools.
/// Returns how many messages it consumed.
size_t renderSystemTurn(const JsonValue *messages, const JsonValue *tools, bool thinking,
                        std::string &out) {
  const JsonValue *first = messages && !messages->items.empty() ? &messages->items[0] : nullptr;
  bool system = first && (role(*first) == "system" || role(*first) == "developer");
  if (!thinking && !truthy(tools) && !system)
    return 0;
  out += "<|turn>system\n";
  if (thinking)
    out += "<|think|>\n";
  if (system) {
    const JsonValue *content = first->get("content");
    if (content && content->isString())
      out += trim(content->text);
    for (size_t i = 0; content && content->isArray() && i < content->items.size(); ++i)
      out += trim(printed(content->items[i].get("text"))) + " ";
  }
  for (size_t i = 0; truthy(tools) && i < tools->items.size(); ++i)
    out += "<|tool>" + trim(formatDeclaration(tools->items[i])) + "<tool|>";
  out += "<turn|>\n";
  return system ? 1 : 0;
}

bool flag(const JsonValue &request, std::string_view key) { return truthy(request.get(key)); }

} // namespace

bool parseChatVariant(std::string_view name, ChatVariant &variant) {
  if (name == "gemma4" || name == "gemma4-large") {
    variant = name == "gemma4" ? ChatVariant::Small : ChatVariant::Large;
    return true;
  }
  return false;
}

bool renderChat(const JsonValue &request, ChatVariant variant, std::string &out,
                std::string &error) {
  const JsonValue *messages = request.get("messages");
  const JsonValue *tools = request.get("tools");
  if (!messages || !messages->isArray() || (tools && !tools->isArray() && !tools->isNull())) {
    error = "expected {\"messages\": [...], \"tools\": [...]}";
    return false;
  }
  for (const JsonValue &message : messages->items)
    if (!message.isObject() || !message.get("role") || !message.get("role")->isString()) {
      error = "every message needs a string \"role\"";
      return false;
    }
  bool thinking = flag(request, "enable_thinking");
  out = "<bos>";
  size_t skipped = renderSystemTurn(messages, tools, thinking, out);
  RenderState state;
  for (size_t i = skipped; i < messages->items.size(); ++i)
    state.messages.push_back(&messages->items[i]);
  int64_t lastUser = -1;
  for (size_t i = 0; i < state.messages.size(); ++i)
    if (role(*state.messages[i]) == "user")
      lastUser = int64_t(i);
  for (size_t i = 0; i < state.messages.size(); ++i)
    if (role(*state.messages[i]) != "tool" &&
        !renderMessage(state, i, lastUser, flag(request, "preserve_thinking"), out, error))
      return false;
  if (!flag(request, "add_generation_prompt"))
    return true;
  if (state.last == LastMessage::Plain) {
    out += "<|turn>model\n";
    if (variant == ChatVariant::Large && !thinking)
      out += "<|channel>thought\n<channel|>";
  } else if (state.last == LastMessage::ToolResponse && thinking) {
    out += "<|channel>thought\n";
  }
  return true;
}

std::string renderNextUserTurn(std::string_view text, ChatVariant variant, bool thinking) {
  std::string out = "<turn|>\n<|turn>user\n" + trim(text) + "<turn|>\n<|turn>model\n";
  if (variant == ChatVariant::Large && !thinking)
    out += "<|channel>thought\n<channel|>";
  return out;
}

} // namespace gemc
