//===- TextSession.cpp - Text in, streamed text out, over a runtime session ===//

#include "runtime/TextSession.h"

#include <algorithm>
#include <chrono>

namespace gemc {
namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

const char *describe(StopReason reason) {
  switch (reason) {
  case StopReason::EndToken: return "end of turn";
  case StopReason::Length: return "token limit";
  case StopReason::ContextFull: return "context full";
  case StopReason::Callback: return "stopped by the caller";
  }
  return "?";
}

SamplingParams samplingParams(const gemc_sampling &s) {
  return {s.greedy != 0, s.temperature, s.top_k, s.top_p, s.min_p, s.repetition_penalty, s.seed};
}

TextSession::TextSession(gemc_session *session, const Tokenizer *tokenizer,
                         std::vector<int32_t> stopIds)
    : session_(session), tokenizer_(tokenizer), stopIds_(std::move(stopIds)) {}

bool TextSession::isStop(int32_t id) const {
  return std::find(stopIds_.begin(), stopIds_.end(), id) != stopIds_.end();
}

gemc_status TextSession::feed(const std::vector<int32_t> &ids, std::string &error) {
  std::vector<int32_t> batch;
  if (pending_ >= 0 && isStop(pending_))
    tokens_.pop_back(); // an end id is not part of the conversation: the template writes its own
  else if (pending_ >= 0)
    batch.push_back(pending_);
  pending_ = -1;
  batch.insert(batch.end(), ids.begin(), ids.end());
  int64_t position = gemc_session_position(session_), context = gemc_session_context(session_);
  if (position + int64_t(batch.size()) > context) {
    error = "the input does not fit the context: " + std::to_string(batch.size()) +
            " tokens after the " + std::to_string(position) + " already held exceed the context "
            "length of " + std::to_string(context);
    return GEMC_ERROR_CONTEXT;
  }
  auto start = std::chrono::steady_clock::now();
  if (gemc_status status = gemc_session_prefill(session_, batch.data(), int64_t(batch.size()),
                                                nullptr);
      status != GEMC_OK) {
    error = gemc_last_error();
    return status;
  }
  stats_.promptSeconds += secondsSince(start);
  stats_.promptTokens += int64_t(batch.size());
  tokens_.insert(tokens_.end(), ids.begin(), ids.end());
  return GEMC_OK;
}

gemc_status TextSession::feedText(std::string_view text, std::string &error) {
  if (!tokenizer_) {
    error = "the artifact has no tokenizer (its checkpoint had none): pass token ids instead";
    return GEMC_ERROR_ARGUMENT;
  }
  std::vector<int32_t> ids = tokenizer_->encode(text);
  int32_t bos = tokenizer_->find("<bos>");
  if (tokens_.empty() && bos >= 0 && (ids.empty() || ids.front() != bos))
    ids.insert(ids.begin(), bos);
  return feed(ids, error);
}

gemc_status TextSession::generate(int64_t maxTokens, Sampler &sampler, const TokenFn &onToken,
                           StopReason &reason, std::string &error) {
  if (gemc_status status = pending_ >= 0 ? feed({}, error) : GEMC_OK; status != GEMC_OK)
    return status;
  const float *logits = gemc_session_logits(session_);
  if (!logits) {
    error = "nothing to continue: evaluate a prompt first";
    return GEMC_ERROR_ARGUMENT;
  }
  int64_t vocab = gemc_model_vocab_size(gemc_session_model(session_));
  Utf8Stream text;
  auto start = std::chrono::steady_clock::now();
  for (int64_t count = 0;; ++count) {
    if (count == maxTokens) {
      reason = StopReason::Length;
      break;
    }
    if (count > 0) { // evaluate the previous token to get the next logits
      if (gemc_session_position(session_) >= gemc_session_context(session_)) {
        reason = StopReason::ContextFull;
        break;
      }
      pending_ = -1;
      if (gemc_status status = gemc_session_decode(session_, tokens_.back(), nullptr);
          status != GEMC_OK) {
        error = gemc_last_error();
        return status;
      }
      logits = gemc_session_logits(session_);
    }
    int32_t id = sampler.sample(logits, vocab, tokens_);
    tokens_.push_back(id);
    pending_ = id;
    stats_.generatedTokens += 1;
    if (isStop(id)) {
      reason = StopReason::EndToken;
      break;
    }
    std::string piece = tokenizer_ ? text.push(tokenizer_->tokenBytes(id)) : "";
    if (!onToken(id, piece)) {
      reason = StopReason::Callback;
      break;
    }
  }
  if (std::string rest = text.finish(); !rest.empty())
    onToken(-1, rest);
  stats_.generateSeconds += secondsSince(start);
  return GEMC_OK;
}

gemc_status TextSession::feedChatTurn(std::string_view system, std::string_view user,
                                      bool thinking, ChatVariant variant, std::string &error,
                                      const JsonValue *tools) {
  if (!tokenizer_)
    return feedText("", error); // the same error as any text without a tokenizer
  if (chatOpen_)
    return feed(tokenizer_->encode(renderNextUserTurn(user, variant, thinking)), error);
  JsonValue request = JsonValue::object();
  JsonValue &messages = request.set("messages", JsonValue());
  messages.kind = JsonValue::Kind::Array;
  for (auto [role, content] : {std::pair{"system", system}, std::pair{"user", user}}) {
    if (role == std::string_view("system") && system.empty())
      continue;
    JsonValue message = JsonValue::object();
    message.set("role", JsonValue::string(role));
    message.set("content", JsonValue::string(std::string(content)));
    messages.items.push_back(std::move(message));
  }
  JsonValue yes;
  yes.kind = JsonValue::Kind::Bool;
  yes.boolean = true;
  request.set("add_generation_prompt", yes);
  if (thinking)
    request.set("enable_thinking", yes);
  if (tools)
    request.set("tools", *tools);
  std::string prompt;
  if (!renderChat(request, variant, prompt, error))
    return GEMC_ERROR_ARGUMENT;
  chatOpen_ = true;
  return feed(tokenizer_->encode(prompt), error);
}

} // namespace gemc
