//===- Generation.cpp - Token lists and token-id decoding, without LLVM ----===//

#include "tools/runner/Generation.h"

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

bool generateTokens(const EvaluateTokens &evaluate, const std::vector<int32_t> &prompt,
                    int64_t count, int64_t vocab, Sampler &sampler,
                    std::vector<int32_t> &generated, std::vector<float> &logits,
                    std::string &error) {
  std::vector<int32_t> next = prompt, history = prompt;
  for (int64_t step = 0;; ++step) {
    if (!evaluate(next, logits, error))
      return false;
    if (step == count)
      return true;
    const float *last = logits.data() + logits.size() - vocab;
    generated.push_back(sampler.sample(last, vocab, history));
    history.push_back(generated.back());
    if (step + 1 == count) // the last generated token is not fed back
      return true;
    next = {generated.back()};
  }
}

void printTokenList(const std::vector<int32_t> &ids) {
  for (size_t i = 0; i < ids.size(); ++i)
    std::printf("%s%d", i ? "," : "", ids[i]);
  std::printf("\n");
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

} // namespace gemc
