//===- SamplerTest.cpp - Greedy decoding and sampling ----------------------===//
//
// Expected distributions are computed by hand (softmax of the listed logits, filtered as
// Hugging Face's processors do) in the comments next to them.

#include "runtime/Sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace gemc {
namespace {

// logits 2, 1, 0, -1, and a tie 2 at id 4.
const std::vector<float> kLogits = {2.0f, 1.0f, 0.0f, -1.0f, 2.0f};

SamplingParams sampling() {
  SamplingParams p;
  p.greedy = false;
  return p;
}

std::map<int32_t, double> asMap(const std::vector<std::pair<int32_t, double>> &d) {
  return {d.begin(), d.end()};
}

TEST(SamplerTest, GreedyTakesTheLowerIdOfATie) {
  Sampler greedy({});
  EXPECT_EQ(greedy.sample(kLogits.data(), 5, {}), 0);
}

TEST(SamplerTest, TopKOneIsGreedy) {
  SamplingParams p = sampling();
  p.topK = 1;
  p.seed = 42;
  Sampler topOne(p), greedy({});
  std::vector<float> logits(100);
  for (int step = 0; step < 50; ++step) {
    for (size_t i = 0; i < logits.size(); ++i)
      logits[i] = std::sin(float(i * 7 + step * 13));
    EXPECT_EQ(topOne.sample(logits.data(), 100, {}), greedy.sample(logits.data(), 100, {}));
  }
}

TEST(SamplerTest, SameSeedSameTokensOtherSeedOthers) {
  SamplingParams p = sampling();
  std::vector<float> flat(1000, 0.0f);
  auto draw = [&](uint64_t seed) {
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 20; ++i)
      out.push_back(s.sample(flat.data(), 1000, {}));
    return out;
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
}

TEST(SamplerTest, DistributionsMatchHandComputedProbabilities) {
  double e = std::exp(1.0);
  // Softmax of (2, 1, 0, -1, 2): weights e^2, e, 1, 1/e, e^2.
  double z = 2 * e * e + e + 1 + 1 / e;
  auto d = asMap(Sampler(sampling()).distribution(kLogits.data(), 5, {}));
  EXPECT_NEAR(d[0], e * e / z, 1e-12);
  EXPECT_NEAR(d[3], 1 / e / z, 1e-12);

  // Temperature 2 halves the logits: weights e, e^0.5, 1, e^-0.5, e.
  SamplingParams p = sampling();
  p.temperature = 2.0f;
  double z2 = 2 * e + std::sqrt(e) + 1 + 1 / std::sqrt(e);
  d = asMap(Sampler(p).distribution(kLogits.data(), 5, {}));
  EXPECT_NEAR(d[1], std::sqrt(e) / z2, 1e-12);

  // Top-k 3 keeps ids 0, 4 (tie, lower id first) and 1: weights e^2, e^2, e.
  p = sampling();
  p.topK = 3;
  d = asMap(Sampler(p).distribution(kLogits.data(), 5, {}));
  ASSERT_EQ(d.size(), 3u);
  EXPECT_NEAR(d[1], e / (2 * e * e + e), 1e-12);

  // Top-p 0.8: the two e^2 tokens hold 2e^2/z = 0.776 < 0.8, so the third (id 1) joins.
  p = sampling();
  p.topP = 0.8f;
  d = asMap(Sampler(p).distribution(kLogits.data(), 5, {}));
  EXPECT_EQ(d.size(), 3u);
  // Top-p 0.7: two tokens are enough.
  p.topP = 0.7f;
  EXPECT_EQ(Sampler(p).distribution(kLogits.data(), 5, {}).size(), 2u);

  // Min-p 0.3 keeps tokens with p >= 0.3 * p(top): e/e^2 = 0.37 passes, 1/e^2 = 0.14 does not.
  p = sampling();
  p.minP = 0.3f;
  EXPECT_EQ(Sampler(p).distribution(kLogits.data(), 5, {}).size(), 3u);

  // Repetition penalty 2 on ids 0 and 3: logit 2 -> 1, logit -1 -> -2.
  p = sampling();
  p.repetitionPenalty = 2.0f;
  d = asMap(Sampler(p).distribution(kLogits.data(), 5, {0, 3, 3}));
  double z3 = e * e + e + e + 1 + std::exp(-2.0);
  EXPECT_NEAR(d[0], e / z3, 1e-12);
  EXPECT_NEAR(d[4], e * e / z3, 1e-12);
}

TEST(SamplerTest, DrawFrequenciesFollowTheDistribution) {
  SamplingParams p = sampling();
  p.seed = 1234;
  Sampler s(p);
  auto expected = asMap(s.distribution(kLogits.data(), 5, {}));
  std::map<int32_t, int> counts;
  const int n = 200000;
  for (int i = 0; i < n; ++i)
    counts[s.sample(kLogits.data(), 5, {})] += 1;
  for (auto [id, probability] : expected) {
    double sd = std::sqrt(probability * (1 - probability) / n);
    EXPECT_NEAR(double(counts[id]) / n, probability, 5 * sd) << "id " << id;
  }
}

} // namespace
} // namespace gemc
