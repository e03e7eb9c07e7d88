//===- Sampler.h - Choosing the next token from logits --------------------===//
//
// Greedy decoding or sampling with the Hugging Face generate() order of logits processors:
// repetition penalty (over every token already in the sequence), temperature, top-k, top-p,
// min-p. The random stream is a splitmix64 generator of our own, so a seed gives the same tokens
// on every platform and standard library.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace gemc {

struct SamplingParams {
  bool greedy = true;
  float temperature = 1.0f;
  int32_t topK = 0;    // 0: off
  float topP = 1.0f;   // 1: off
  float minP = 0.0f;   // 0: off
  float repetitionPenalty = 1.0f;
  uint64_t seed = 0;
};

class Sampler {
public:
  explicit Sampler(const SamplingParams &params);

  /// The next token. `history` is every token of the sequence so far (for the penalty).
  int32_t sample(const float *logits, int64_t vocab, const std::vector<int32_t> &history);

  /// The distribution sample() draws from: (token, probability) for every token left after the
  /// filters, most likely first (ties: lower id first). Greedy: the argmax with probability 1.
  std::vector<std::pair<int32_t, double>> distribution(const float *logits, int64_t vocab,
                                                       const std::vector<int32_t> &history) const;

private:
  double uniform(); // in [0, 1)

  SamplingParams params_;
  uint64_t state_;
};

} // namespace gemc
