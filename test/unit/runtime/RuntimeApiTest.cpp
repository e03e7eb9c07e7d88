//===- RuntimeApiTest.cpp - The C API's guards and its threads -------------===//
//
// Runs the runtime on hand-built artifacts (FakeArtifact) with kernels written here: they
// store each token in the KV cache (workers split the tokens), sum the cache across workers
// through the scratch, and write logits[v] = (sum of the tokens so far) + v, in three
// dispatches. So the expected logits are known by hand, every call depends on the executor's
// barriers ordering the workers' writes (ThreadSanitizer runs this file in build-tsan/), and
// the API's checks of ids, lengths, manifests and dispatch tables are tested without a
// compiler.
//
//===----------------------------------------------------------------------===//

#include "gemc/runtime.h"
#include "runtime/Artifact.h"
#include "runtime/ArtifactFormat.h"
#include "runtime/common/CpuFeatures.h"
#include "runtime/common/ExecutionAbi.h"
#include "runtime/common/WeightFormat.h"
#include "test/unit/runtime/FakeArtifact.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>

namespace gemc {
namespace {

using test::buildFakeArtifact;
using test::FakeArtifactSpec;

// The kernels of FakeArtifact's three dispatches. Each worker takes a stride of the tokens or
// of the cache; the runtime's barriers between dispatches order their writes.
constexpr int64_t kVocab = 16;

void storeTokens(void *const *bindings, const int64_t *params, int64_t worker, int64_t workers) {
  auto *ids = static_cast<const int32_t *>(bindings[0]);
  auto *kv = static_cast<int32_t *>(bindings[1]);
  for (int64_t i = worker; i < params[kParamTokens]; i += workers)
    kv[params[kParamStartPos] + i] = ids[i];
}

/// Each worker sums its stride of the cache up to each output row's token.
void sumPartials(void *const *bindings, const int64_t *params, int64_t worker, int64_t workers) {
  auto *kv = static_cast<const int32_t *>(bindings[0]);
  auto *partial = static_cast<int64_t *>(bindings[1]);
  int64_t rows = params[kParamLogitsRows];
  for (int64_t r = 0; r < rows; ++r) {
    int64_t end = params[kParamStartPos] + params[kParamTokens] - rows + r + 1, sum = 0;
    for (int64_t p = worker; p < end; p += workers)
      sum += kv[p];
    partial[r * workers + worker] = sum;
  }
}

void combinePartials(void *const *bindings, const int64_t *params, int64_t worker,
                     int64_t workers) {
  auto *partial = static_cast<const int64_t *>(bindings[0]);
  auto *logits = static_cast<float *>(bindings[1]);
  if (worker == 0)
    for (int64_t r = 0; r < params[kParamLogitsRows]; ++r) {
      int64_t total = 0;
      for (int64_t w = 0; w < workers; ++w)
        total += partial[r * workers + w];
      for (int64_t v = 0; v < kVocab; ++v)
        logits[r * kVocab + v] = float(total + v);
    }
}

const KernelFunction kFakeKernels[test::kFakeDispatches] = {storeTokens, sumPartials,
                                                            combinePartials};

FakeArtifactSpec spec() {
  FakeArtifactSpec s;
  s.scratchBytes = 4 * 8 * sizeof(int64_t); // max_chunk rows x up to 8 workers
  return s;
}

struct Opened {
  std::vector<uint8_t> bytes; // outlives the model
  gemc_model *model = nullptr;
  gemc_status status = GEMC_OK;
  ~Opened() { gemc_model_free(model); }
};

std::unique_ptr<Opened> open(const FakeArtifactSpec &s) {
  auto opened = std::make_unique<Opened>();
  opened->bytes = buildFakeArtifact(s);
  opened->status = gemc_model_open_linked(opened->bytes.data(), opened->bytes.size(),
                                          kFakeKernels, &opened->model);
  return opened;
}

class ThreadsTest : public testing::TestWithParam<int> {};

TEST_P(ThreadsTest, PrefillInChunksAndDecodeSeeTheWholeCache) {
  auto opened = open(spec());
  ASSERT_EQ(opened->status, GEMC_OK) << gemc_last_error();
  gemc_session *session = nullptr;
  ASSERT_EQ(gemc_session_create(opened->model, 32, GetParam(), &session), GEMC_OK);
  EXPECT_EQ(gemc_session_threads(session), GetParam());
  std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3}; // 3 calls of max_chunk 4
  std::vector<float> logits(prompt.size() * 16);
  ASSERT_EQ(gemc_session_prefill(session, prompt.data(), int64_t(prompt.size()), logits.data()),
            GEMC_OK);
  int64_t sum = 0;
  for (size_t i = 0; i < prompt.size(); ++i) {
    sum += prompt[i];
    for (int v = 0; v < 16; ++v)
      ASSERT_EQ(logits[i * 16 + v], float(sum + v)) << "token " << i << " id " << v;
  }
  for (int32_t token : {7, 0, 15}) {
    ASSERT_EQ(gemc_session_decode(session, token, nullptr), GEMC_OK);
    sum += token;
    EXPECT_EQ(gemc_session_logits(session)[0], float(sum));
    EXPECT_EQ(gemc_session_logits(session)[15], float(sum + 15));
  }
  EXPECT_EQ(gemc_session_position(session), 13);
  gemc_session_free(session);
}

INSTANTIATE_TEST_SUITE_P(Workers, ThreadsTest, testing::Values(1, 2, 3, 4));

class ApiGuardsTest : public testing::Test {
protected:
  void SetUp() override {
    opened_ = open(spec());
    ASSERT_EQ(opened_->status, GEMC_OK) << gemc_last_error();
    ASSERT_EQ(gemc_session_create(opened_->model, 8, 2, &session_), GEMC_OK);
  }
  void TearDown() override { gemc_session_free(session_); }
  std::unique_ptr<Opened> opened_;
  gemc_session *session_ = nullptr;
};

TEST_F(ApiGuardsTest, TokenIdsOutsideTheVocabularyAreRefusedBeforeAnythingRuns) {
  for (int32_t bad : {-1, 16, INT32_MAX}) {
    int32_t tokens[] = {3, bad};
    EXPECT_EQ(gemc_session_prefill(session_, tokens, 2, nullptr), GEMC_ERROR_ARGUMENT);
    EXPECT_EQ(std::string(gemc_last_error()),
              "token id " + std::to_string(bad) + " (entry 1) is outside the vocabulary [0, 16)");
    EXPECT_EQ(gemc_session_decode(session_, bad, nullptr), GEMC_ERROR_ARGUMENT);
  }
  EXPECT_EQ(gemc_session_position(session_), 0);
  EXPECT_EQ(gemc_session_logits(session_), nullptr);
}

TEST_F(ApiGuardsTest, BadArraysAndNullPointersAreRefused) {
  int32_t token = 3;
  EXPECT_EQ(gemc_session_prefill(session_, nullptr, 1, nullptr), GEMC_ERROR_ARGUMENT);
  EXPECT_EQ(gemc_session_prefill(session_, &token, -1, nullptr), GEMC_ERROR_ARGUMENT);
  EXPECT_EQ(gemc_session_prefill(nullptr, &token, 1, nullptr), GEMC_ERROR_ARGUMENT);
  EXPECT_EQ(gemc_session_decode(nullptr, 3, nullptr), GEMC_ERROR_ARGUMENT);
  gemc_session *session = nullptr;
  EXPECT_EQ(gemc_session_create(nullptr, 8, 1, &session), GEMC_ERROR_ARGUMENT);
  EXPECT_EQ(gemc_session_create(opened_->model, 8, 1, nullptr), GEMC_ERROR_ARGUMENT);
  gemc_model *model = nullptr;
  EXPECT_EQ(gemc_model_open(nullptr, &model), GEMC_ERROR_ARGUMENT);
  EXPECT_EQ(gemc_model_open_linked(nullptr, 0, kFakeKernels, &model),
            GEMC_ERROR_ARGUMENT);
  EXPECT_EQ(model, nullptr);
}

TEST_F(ApiGuardsTest, TheContextLengthIsEnforcedAndARefusedCallChangesNothing) {
  std::vector<int32_t> tokens(6, 1);
  ASSERT_EQ(gemc_session_prefill(session_, tokens.data(), 6, nullptr), GEMC_OK);
  EXPECT_EQ(gemc_session_prefill(session_, tokens.data(), 3, nullptr), GEMC_ERROR_CONTEXT);
  EXPECT_EQ(std::string(gemc_last_error()),
            "the context is full: 6 + 3 tokens exceed the session's context length of 8");
  EXPECT_EQ(gemc_session_position(session_), 6);
  EXPECT_EQ(gemc_session_logits(session_)[0], 6.0f);
  ASSERT_EQ(gemc_session_prefill(session_, tokens.data(), 2, nullptr), GEMC_OK);
  EXPECT_EQ(gemc_session_decode(session_, 1, nullptr), GEMC_ERROR_CONTEXT);
  gemc_session *session = nullptr;
  for (int64_t bad : {int64_t(0), int64_t(-5), int64_t(65)}) {
    EXPECT_EQ(gemc_session_create(opened_->model, bad, 1, &session), GEMC_ERROR_ARGUMENT);
    EXPECT_EQ(std::string(gemc_last_error()), "context length " + std::to_string(bad) +
                                                  " must be between 1 and the model's 64");
  }
}

/// The error gemc_model_open_linked gives for `s`, or "" if it opens.
std::string openError(const FakeArtifactSpec &s) {
  auto opened = open(s);
  return opened->status == GEMC_OK ? "" : gemc_last_error();
}

TEST(ManifestChecksTest, FieldsThatWouldMisSizeBuffersAreRefused) {
  const std::string prefix = "the linked-in artifact: ";
  EXPECT_EQ(openError(spec()), "");
  auto with = [](auto change) {
    FakeArtifactSpec s = spec();
    change(s);
    return openError(s);
  };
  EXPECT_EQ(with([](auto &s) { s.vocab = 0; }),
            prefix + "manifest field 'model.vocab_size' is 0, outside [1, 16777216]");
  EXPECT_EQ(with([](auto &s) { s.maxContext = -1; }),
            prefix + "manifest field 'model.max_position_embeddings' is -1, outside [1, 16777216]");
  EXPECT_EQ(with([](auto &s) { s.bos = 16; }),
            prefix + "manifest field 'model.bos_token_id' is 16, outside [0, 15]");
  EXPECT_EQ(with([](auto &s) { s.eos = -3; }),
            prefix + "manifest field 'model.eos_token_id' is -3, outside [0, 15]");
  EXPECT_EQ(with([](auto &s) { s.maxChunk = 0; }),
            prefix + "manifest field 'plan.max_chunk' is 0, outside [1, 17179869184]");
  EXPECT_EQ(with([](auto &s) { s.stopIds = {1, 99}; }),
            prefix + "manifest field 'generation.stop_ids' is 99, outside [0, 15]");
  EXPECT_EQ(with([](auto &s) { s.kvPerContextBytes = uint64_t(1) << 62; }),
            prefix + "manifest's memory plan needs more than 2^60 bytes");
  EXPECT_EQ(with([](auto &s) { s.scratchBytes = ~uint64_t(0); }),
            prefix + "manifest's memory plan needs more than 2^60 bytes");
  EXPECT_EQ(with([](auto &s) { s.tensorOffset = 32; }),
            prefix + "manifest tensor 'w' [32, +64) lies outside the weights section (64 bytes)");
  EXPECT_EQ(with([](auto &s) { s.formatVersion = 1; }),
            prefix +
                "artifact format version 1, this runtime reads version 2; recompile the model");
  EXPECT_EQ(with([](auto &s) { s.scratchBindingBytes = 257; }),
            prefix + "manifest dispatch 1 (fake_partial) binding 1 lies outside the scratch "
                     "buffer");
  EXPECT_EQ(with([](auto &s) { s.kvPerContextBytes = 2; }),
            prefix + "manifest dispatch 0 (fake_store) binding 1 lies outside the KV cache");
}

TEST(ManifestChecksTest, SyntheticWeightsAreGeneratedOrTheirFieldsRefused) {
  const std::string prefix = "the linked-in artifact: ";
  FakeArtifactSpec s = spec();
  s.synthetic = true;
  s.tensorShape = {16}; // 16 f32 values: a vector, generated as 1 +- 1/8
  std::vector<uint8_t> bytes = buildFakeArtifact(s);
  gemc_model *model = nullptr;
  ASSERT_EQ(gemc_model_open_linked(bytes.data(), bytes.size(), kFakeKernels, &model), GEMC_OK)
      << gemc_last_error();
  uint64_t size = 0;
  const auto *weights = reinterpret_cast<const float *>(artifactOf(model).weights(&size));
  EXPECT_EQ(size, 64u);
  for (int i = 0; i < 16; ++i)
    EXPECT_NEAR(weights[i], 1.0f, 0.125f) << i;
  EXPECT_NE(weights[0], weights[1]);
  gemc_model_free(model);

  auto with = [&](auto change) {
    FakeArtifactSpec changed = s;
    change(changed);
    return openError(changed);
  };
  EXPECT_EQ(with([](auto &c) { c.tensorShape = {15}; }),
            prefix + "manifest tensor 'w': its format, shape and size do not describe whole "
                     "rows, so synthetic weights cannot be generated for it");
  EXPECT_EQ(with([](auto &c) { c.weightsBytes = uint64_t(1) << 61; }),
            prefix + "manifest's synthetic weights need more than 2^60 bytes");
}

TEST(ManifestChecksTest, SyntheticWeightsFillRowTilesOrTheirFieldsAreRefused) {
  // Four q4_0 rows of 64 columns (36 bytes each) in tiles of 2: the same bytes as the rows
  // generated in the row layout, then tiled.
  FakeArtifactSpec s = spec();
  s.synthetic = true;
  s.weightsBytes = s.tensorBytes = 4 * 36;
  s.tensorShape = {4, 64};
  s.tensorFormat = "q4_0";
  auto weightsOf = [](const FakeArtifactSpec &spec) {
    std::vector<uint8_t> bytes = buildFakeArtifact(spec);
    gemc_model *model = nullptr;
    EXPECT_EQ(gemc_model_open_linked(bytes.data(), bytes.size(), kFakeKernels, &model), GEMC_OK)
        << gemc_last_error();
    const uint8_t *weights = artifactOf(model).weights(nullptr);
    std::vector<uint8_t> copy(weights, weights + spec.tensorBytes);
    gemc_model_free(model);
    return copy;
  };
  std::vector<uint8_t> expected = weightsOf(s);
  tileRows(WeightFormat::Q4_0, 64, 2, 4, expected.data());
  s.tensorTileRows = 2;
  EXPECT_EQ(weightsOf(s), expected);

  const std::string prefix = "the linked-in artifact: ";
  for (int32_t bad : {3, 8, -2}) {
    s.tensorTileRows = bad;
    EXPECT_EQ(openError(s), prefix + "manifest tensor 'w': tile_rows " + std::to_string(bad) +
                                " does not divide its matrices into tiles of q8_0 or q4_0 rows");
  }
  s.tensorTileRows = 2;
  s.tensorFormat = "q4_1";
  s.tensorBytes = s.weightsBytes = 4 * 40;
  EXPECT_EQ(openError(s), prefix + "manifest tensor 'w': tile_rows 2 does not divide its "
                                   "matrices into tiles of q8_0 or q4_0 rows");
}

TEST(ManifestChecksTest, EveryFlippedByteIsCaught) {
  // Wherever it is: the header's fields, its reserved word and padding, the padding between
  // sections, the two sections and the manifest.
  std::vector<uint8_t> good = buildFakeArtifact(spec());
  for (uint64_t at = 0; at < good.size(); ++at) {
    std::vector<uint8_t> bad = good;
    bad[at] ^= 0x10;
    gemc_model *model = nullptr;
    ASSERT_NE(gemc_model_open_linked(bad.data(), bad.size(),
                                     kFakeKernels, &model),
              GEMC_OK)
        << "byte " << at << " flipped";
  }
  EXPECT_GT(good.size(), 8192u);
}

TEST(ManifestChecksTest, AnotherArchitectureIsRefused) {
  FakeArtifactSpec s = spec();
  s.targetName = "elsewhere";
#if defined(__aarch64__)
  s.triple = "x86_64-unknown-linux-gnu";
  const char *message = "it was compiled for elsewhere (x86_64) but this CPU is aarch64";
#else
  s.triple = "aarch64-unknown-linux-gnu";
  const char *message = "it was compiled for elsewhere (aarch64) but this CPU is x86_64";
#endif
  EXPECT_EQ(openError(s), std::string("the linked-in artifact: cannot run here: ") + message);
}

#if defined(__x86_64__)
// A Zen 3 (AVX2, no AVX-512) as hostCpuFeatures() would describe it.
const CpuFeatureSet kZen3 = {"sse", "sse2", "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt",
                             "avx", "avx2", "fma", "f16c", "bmi", "bmi2", "lzcnt", "movbe",
                             "cx16", "sahf", "xsave", "aes", "pclmul", "vaes", "vpclmulqdq"};

TEST(CpuFeaturesTest, AnAvx512ArtifactOnAnAvx2MachineNamesWhatIsMissing) {
  EXPECT_EQ(whyCpuCannotRun("+avx2,+fma,+f16c", kZen3), "");
  EXPECT_EQ(whyCpuCannotRun("+avx2,+fma,+f16c,+avx512f,+avx512bw", kZen3),
            "needs avx512f, and this CPU lacks it");
  EXPECT_EQ(whyCpuCannotRun("+avx2,+avx512fp16", kZen3), "needs avx512fp16, and this CPU lacks it");
  // Features switched off require nothing.
  EXPECT_EQ(whyCpuCannotRun("-avx512f,+avx2,-fast-gather,-avx10.2", kZen3), "");
  EXPECT_EQ(whyCpuCannotRun("", kZen3), "");
}

TEST(CpuFeaturesTest, AFeatureTheRuntimeCannotCheckIsRefused) {
  // Tuning flags and extensions missing from the runtime's table (AVX10, APX, ...) could hide
  // instructions this CPU lacks: such an artifact never runs on faith.
  EXPECT_EQ(whyCpuCannotRun("+avx2,+fast-gather", kZen3),
            "needs CPU feature fast-gather, which this runtime cannot check");
  EXPECT_EQ(whyCpuCannotRun("+avx2,+avx10.2", kZen3),
            "needs CPU feature avx10.2, which this runtime cannot check");
}

TEST(CpuFeaturesTest, TheHostAgreesWithProcCpuinfo) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::stringstream text;
  text << cpuinfo.rdbuf();
  std::string flags = text.str();
  flags = flags.substr(flags.find("\nflags"));
  flags = " " + flags.substr(flags.find(':') + 1, flags.find('\n', 1) - flags.find(':')) + " ";
  // /proc/cpuinfo's spelling -> LLVM's.
  for (auto [kernelName, llvmName] :
       {std::pair{"sse4_2", "sse4.2"}, std::pair{"avx", "avx"}, std::pair{"avx2", "avx2"},
        std::pair{"fma", "fma"}, std::pair{"f16c", "f16c"}, std::pair{"avx512f", "avx512f"},
        std::pair{"avx512bw", "avx512bw"}, std::pair{"avx512_vnni", "avx512vnni"},
        std::pair{"avx512_fp16", "avx512fp16"}, std::pair{"gfni", "gfni"},
        std::pair{"bmi2", "bmi2"}, std::pair{"abm", "lzcnt"}})
    EXPECT_EQ(flags.find(std::string(" ") + kernelName + " ") != std::string::npos,
              hostCpuFeatures().count(llvmName) == 1)
        << kernelName;
}
#endif

} // namespace
} // namespace gemc
