//===- TextSession.h - Text in, streamed text out, over a runtime session -===//
//
// The generation loop of `gemc run -p`, `gemc chat`, compiled executables and the C API's
// gemc_session_generate/gemc_session_chat: tokenize, evaluate, sample, stream whole UTF-8
// characters, stop at the model's end ids, the token budget or the end of the context (a
// message, never a crash). A chat keeps its KV cache across turns: each turn evaluates only what
// the chat template appends to the conversation.
//
// A sampled token is evaluated only when the next token is wanted, so the last token of a reply
// is still pending when generation stops; the next feed evaluates it first, unless it was an end
// id (the chat template writes the end of turn itself).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "gemc/runtime.h"
#include "runtime/ChatTemplate.h"
#include "runtime/Sampler.h"
#include "runtime/Tokenizer.h"

#include <functional>
#include <string>
#include <vector>

namespace gemc {

enum class StopReason { EndToken, Length, ContextFull, Callback };
const char *describe(StopReason reason);

struct GenerationStats {
  int64_t promptTokens = 0, generatedTokens = 0;
  double promptSeconds = 0, generateSeconds = 0;
};

class TextSession {
public:
  /// `session` stays owned by the caller; `tokenizer` may be null for token-only use.
  TextSession(gemc_session *session, const Tokenizer *tokenizer, std::vector<int32_t> stopIds);

  /// Evaluates `ids` after what the session holds (a pending sampled token first). Fails with a
  /// message when the ids would not fit the context.
  gemc_status feed(const std::vector<int32_t> &ids, std::string &error);
  /// Tokenizes and feeds `text`, with <bos> first when the session is empty.
  gemc_status feedText(std::string_view text, std::string &error);

  /// Called with each token and the text it completes (possibly empty while a UTF-8 character
  /// is unfinished); return false to stop.
  using TokenFn = std::function<bool(int32_t id, std::string_view text)>;
  /// Generates up to `maxTokens` tokens (< 0: until an end id or the context is full).
  gemc_status generate(int64_t maxTokens, Sampler &sampler, const TokenFn &onToken, StopReason &reason,
                std::string &error);

  /// Feeds the next chat turn: the whole opening (system turn: thinking switch, `system` text,
  /// `tools` declarations if not null) on the first call, then only the turn delta.
  gemc_status feedChatTurn(std::string_view system, std::string_view user, bool thinking,
                           ChatVariant variant, std::string &error,
                           const JsonValue *tools = nullptr);

  const GenerationStats &stats() const { return stats_; }
  void resetStats() { stats_ = {}; }
  /// Every token of the sequence: evaluated ones and the pending one.
  const std::vector<int32_t> &tokens() const { return tokens_; }

private:
  bool isStop(int32_t id) const;

  gemc_session *session_;
  const Tokenizer *tokenizer_;
  std::vector<int32_t> stopIds_, tokens_;
  int32_t pending_ = -1; // sampled, not yet evaluated
  bool chatOpen_ = false;
  GenerationStats stats_;
};

/// The sampler's parameters from the C API's struct.
SamplingParams samplingParams(const gemc_sampling &sampling);

/// What an open model carries for text (for C++ tools; the C API wraps the same).
const Tokenizer *artifactTokenizer(const gemc_model *model); // null without one
const std::vector<int32_t> &artifactStopIds(const gemc_model *model);
ChatVariant artifactChatVariant(const gemc_model *model);

} // namespace gemc
