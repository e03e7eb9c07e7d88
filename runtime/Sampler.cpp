//===- Sampler.cpp - Choosing the next token from logits ------------------===//

#include "runtime/Sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace gemc {

Sampler::Sampler(const SamplingParams &params) : params_(params), state_(params.seed) {}

double Sampler::uniform() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return double(z >> 11) * 0x1.0p-53;
}

std::vector<std::pair<int32_t, double>>
Sampler::distribution(const float *logits, int64_t vocab,
                      const std::vector<int32_t> &history) const {
  std::vector<std::pair<int32_t, double>> scores(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i)
    scores[size_t(i)] = {int32_t(i), double(logits[i])};
  if (params_.repetitionPenalty != 1.0f) {
    double penalty = params_.repetitionPenalty;
    for (int32_t id : std::unordered_set<int32_t>(history.begin(), history.end()))
      if (id >= 0 && id < vocab) {
        double &score = scores[size_t(id)].second;
        score = score > 0 ? score / penalty : score * penalty;
      }
  }
  auto better = [](const auto &a, const auto &b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  if (params_.greedy) {
    auto best = std::min_element(scores.begin(), scores.end(), better);
    return {{best->first, 1.0}};
  }
  // Temperature, then top-k on the sorted scores.
  size_t keep = scores.size();
  if (params_.topK > 0 && size_t(params_.topK) < keep)
    keep = size_t(params_.topK);
  std::partial_sort(scores.begin(), scores.begin() + keep, scores.end(), better);
  scores.resize(keep);
  double top = scores.front().second / params_.temperature, total = 0;
  for (auto &[id, score] : scores)
    total += score = std::exp(score / params_.temperature - top);
  for (auto &entry : scores)
    entry.second /= total;
  // Top-p: the smallest head whose mass reaches top_p (at least one token).
  if (params_.topP < 1.0f) {
    double mass = 0;
    size_t n = 0;
    while (n < scores.size() && (n == 0 || mass < params_.topP))
      mass += scores[n++].second;
    scores.resize(n);
  }
  // Min-p: drop tokens less likely than min_p times the most likely one.
  if (params_.minP > 0.0f) {
    double floor = params_.minP * scores.front().second;
    scores.erase(std::find_if(scores.begin() + 1, scores.end(),
                              [&](const auto &entry) { return entry.second < floor; }),
                 scores.end());
  }
  total = 0;
  for (const auto &entry : scores)
    total += entry.second;
  for (auto &entry : scores)
    entry.second /= total;
  return scores;
}

int32_t Sampler::sample(const float *logits, int64_t vocab, const std::vector<int32_t> &history) {
  std::vector<std::pair<int32_t, double>> choices = distribution(logits, vocab, history);
  if (params_.greedy)
    return choices.front().first;
  double u = uniform(), mass = 0;
  for (const auto &[id, p] : choices)
    if ((mass += p) > u)
      return id;
  return choices.back().first; // rounding left u above the total
}

} // namespace gemc
