//===- Generation.cpp - Token lists and greedy decoding, without LLVM ------===//

#include "runtime/Generation.h"

#include "gemc/runtime.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace gemc {

bool parseTokenList(const std::string &text, int64_t vocabSize, const std::string &flag,
                    std::vector<int32_t> &ids, std::string &error) {
  size_t start = 0, entry = 0;
  for (;; ++entry) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? comma : comma - start);
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    bool digits = !part.empty() && part.size() <= 18 &&
                  std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      error = flag + ": entry " + std::to_string(entry) + " ('" + part + "') is not a token id";
      return false;
    }
    long long id = std::stoll(part);
    if (id >= vocabSize) {
      error = flag + ": token id " + part + " (entry " + std::to_string(entry) +
              ") is outside the vocabulary [0, " + std::to_string(vocabSize) + ")";
      return false;
    }
    ids.push_back(int32_t(id));
    if (comma == std::string::npos)
      return true;
    start = comma + 1;
  }
}

bool generateGreedy(const EvaluateTokens &evaluate, const std::vector<int32_t> &prompt,
                    int64_t count, int64_t vocab, std::vector<int32_t> &generated,
                    std::vector<float> &logits, std::string &error) {
  std::vector<int32_t> next = prompt;
  for (int64_t step = 0;; ++step) {
    if (!evaluate(next, logits, error))
      return false;
    if (step == count)
      return true;
    const float *last = logits.data() + logits.size() - vocab;
    generated.push_back(int32_t(std::max_element(last, last + vocab) - last));
    if (step + 1 == count) // the last generated token is not fed back
      return true;
    next = {generated.back()};
  }
}

bool writeLogits(const std::string &path, const std::vector<float> &logits, std::string &error) {
  std::string temporary = path + ".tmp";
  FILE *file = std::fopen(temporary.c_str(), "wb");
  bool ok = file && std::fwrite(logits.data(), sizeof(float), logits.size(), file) ==
                        logits.size();
  ok = file && std::fclose(file) == 0 && ok;
  if (ok && std::rename(temporary.c_str(), path.c_str()) == 0)
    return true;
  error = path + ": cannot write: " + std::strerror(errno);
  std::remove(temporary.c_str());
  return false;
}

bool runArtifact(const RunRequest &request, std::vector<int32_t> &generated, std::string &error) {
  gemc_model *model = nullptr;
  gemc_session *session = nullptr;
  auto fail = [&] {
    error = gemc_last_error();
    gemc_session_free(session);
    gemc_model_free(model);
    return false;
  };
  if (gemc_model_open(request.artifact.c_str(), &model) != GEMC_OK)
    return fail();
  int64_t vocab = gemc_model_vocab_size(model);
  std::vector<int32_t> prompt;
  if (!parseTokenList(request.tokens, vocab, "--tokens", prompt, error)) {
    gemc_model_free(model);
    return false;
  }
  int64_t context = request.contextLength
                        ? request.contextLength
                        : std::min<int64_t>(gemc_model_max_context(model),
                                            int64_t(prompt.size()) + request.generate);
  if (gemc_session_create(model, context, int32_t(request.threads), &session) != GEMC_OK)
    return fail();
  std::vector<float> logits;
  // Every row is kept only for a dump; otherwise the last row is all greedy decoding reads.
  bool allRows = !request.dumpLogits.empty();
  auto evaluate = [&](const std::vector<int32_t> &ids, std::vector<float> &rows, std::string &) {
    size_t at = rows.size();
    rows.resize(at + (allRows ? ids.size() : 1) * size_t(vocab));
    if (gemc_session_prefill(session, ids.data(), int64_t(ids.size()),
                             allRows ? rows.data() + at : nullptr) != GEMC_OK)
      return false;
    if (!allRows)
      std::copy_n(gemc_session_logits(session), vocab, rows.data() + at);
    return true;
  };
  if (!generateGreedy(evaluate, prompt, request.generate, vocab, generated, logits, error))
    return fail();
  gemc_session_free(session);
  gemc_model_free(model);
  return request.dumpLogits.empty() || writeLogits(request.dumpLogits, logits, error);
}

} // namespace gemc
