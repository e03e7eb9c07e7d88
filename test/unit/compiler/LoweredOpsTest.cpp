//===- LoweredOpsTest.cpp - Each lowered op against the reference interpreter ----===//
//
// Every gemma op, in a minimal module (embed -> op -> lm_head), with random weights, runs in
// the reference interpreter and as generated code; the logits must agree. The code is generated
// for 4, 8 and 16 f32 lanes (NEON, AVX2, AVX-512 widths) and runs on 1 and 3 workers (3 leaves
// uneven shares, and some workers without rows). Hidden sizes 6, 16 and 21 exercise vector
// tails, and the attention cases evaluate seven tokens in
// calls of 3, 1 and 3 tokens so the KV cache, the sliding window and the ring buffer (max
// chunk 3, window 3: five slots) wrap around. The quantized cases store every matrix in one
// weight format; hidden sizes 21 and 45 give rows of one short block and of a whole block plus
// a tail, so the kernels' block loop, their vector tails and their scalar tails all run.
// The int8-activation cases ("q4_0/vnni": q4_0 weights, int8 activations, vpdpbusd) use
// hidden size 64, whose rows are whole blocks, so the integer tiles run, each with the dot
// products this CPU has. Their LM head stays f32: an activation that f32 and the oracle's
// double arithmetic put on either side of a rounding boundary moves the logits by far more
// than the tolerance (QuantConfig.h), and the head's input has been through the op.

#include "JitModel.h"

#include "../NumericCompare.h"
#include "../TestSafeTensors.h"
#include "compiler/pipeline/Pipelines.h"
#include "dialects/gemma/GemmaOps.h"
#include "dialects/gemma/interpreter/Interpreter.h"
#include "runtime/common/CpuFeatures.h"

#include <gtest/gtest.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/Parser/Parser.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

using namespace gemc;

namespace {

constexpr int64_t kVocab = 11;

struct OpCase {
  std::string name;
  /// Ops from %x to %y, both tensor<?x{D}xf32>; "{D}" is replaced by the hidden size.
  std::string body;
  /// Weights the body reads: name -> shape ("D" in a shape means the hidden size).
  std::vector<std::pair<std::string, std::vector<int64_t>>> weights;
};

/// gtest prints a case by its name (in test listings and ctest's names).
void PrintTo(const OpCase &op, std::ostream *os) { *os << op.name; }

constexpr int64_t D = -1; // placeholder for the hidden size in weight shapes

/// A sliding-window attention layer 0 (4 heads, 2 KV heads, head dim 6, window 3) on %x,
/// defining `result`.
std::string slidingLayer0(const std::string &result) {
  return R"(%q = gemma.weight "q" : tensor<24x{D}xbf16>
          %qn = gemma.weight "qn" : tensor<6xbf16>
          %k = gemma.weight "k" : tensor<12x{D}xbf16>
          %kn = gemma.weight "kn" : tensor<6xbf16>
          %v = gemma.weight "v" : tensor<12x{D}xbf16>
          %o = gemma.weight "o" : tensor<{D}x24xbf16>
          )" + result +
         R"( = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) v(%v) o(%o) {eps = 1.0e-6 : f64,
            head_dim = 6 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64,
            rope = #gemma.rope<default>, rope_theta = 1.0e4 : f64, sliding_window = 3 : i64}
            : (tensor<?x{D}xf32>, index, tensor<24x{D}xbf16>, tensor<6xbf16>, tensor<12x{D}xbf16>,
               tensor<6xbf16>, tensor<12x{D}xbf16>, tensor<{D}x24xbf16>) -> tensor<?x{D}xf32>)";
}

std::vector<OpCase> opCases() {
  return {
      {"RmsNormWithWeight",
       R"(%g = gemma.weight "g" : tensor<{D}xbf16>
          %y = gemma.rms_norm %x, %g {eps = 1.0e-6 : f64} : (tensor<?x{D}xf32>, tensor<{D}xbf16>) -> tensor<?x{D}xf32>)",
       {{"g", {D}}}},
      {"RmsNormWithoutWeight",
       R"(%y = gemma.rms_norm %x {eps = 1.0e-6 : f64} : (tensor<?x{D}xf32>) -> tensor<?x{D}xf32>)",
       {}},
      {"Mlp",
       R"(%g = gemma.weight "gate" : tensor<13x{D}xbf16>
          %u = gemma.weight "up" : tensor<13x{D}xbf16>
          %d = gemma.weight "down" : tensor<{D}x13xbf16>
          %y = gemma.mlp %x, %g, %u, %d : (tensor<?x{D}xf32>, tensor<13x{D}xbf16>, tensor<13x{D}xbf16>, tensor<{D}x13xbf16>) -> tensor<?x{D}xf32>)",
       {{"gate", {13, D}}, {"up", {13, D}}, {"down", {D, 13}}}},
      {"LayerScalarAndAdd",
       R"(%s = gemma.weight "s" : tensor<1xbf16>
          %a = gemma.layer_scalar %x, %s : (tensor<?x{D}xf32>, tensor<1xbf16>) -> tensor<?x{D}xf32>
          %y = arith.addf %a, %x : tensor<?x{D}xf32>)",
       {{"s", {1}}}},
      {"SlidingAttention",
       slidingLayer0("%y"),
       {{"q", {24, D}}, {"qn", {6}}, {"k", {12, D}}, {"kn", {6}}, {"v", {12, D}}, {"o", {D, 24}}}},
      {"FullProportionalAttentionWithVFromK",
       R"(%q = gemma.weight "q" : tensor<20x{D}xbf16>
          %qn = gemma.weight "qn" : tensor<10xbf16>
          %k = gemma.weight "k" : tensor<10x{D}xbf16>
          %kn = gemma.weight "kn" : tensor<10xbf16>
          %o = gemma.weight "o" : tensor<{D}x20xbf16>
          %y = gemma.attention %x at %pos q(%q, %qn) k(%k, %kn) o(%o) {eps = 1.0e-6 : f64,
            head_dim = 10 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
            partial_rotary_factor = 0.5 : f64, rope = #gemma.rope<proportional>,
            rope_theta = 1.0e6 : f64, v_from_k}
            : (tensor<?x{D}xf32>, index, tensor<20x{D}xbf16>, tensor<10xbf16>,
               tensor<10x{D}xbf16>, tensor<10xbf16>, tensor<{D}x20xbf16>) -> tensor<?x{D}xf32>)",
       {{"q", {20, D}}, {"qn", {10}}, {"k", {10, D}}, {"kn", {10}}, {"o", {D, 20}}}},
      {"KvSharedAttention",
       slidingLayer0("%a") + R"(
          %q2 = gemma.weight "q2" : tensor<24x{D}xbf16>
          %y = gemma.attention %a at %pos q(%q2, %qn) o(%o) {eps = 1.0e-6 : f64,
            head_dim = 6 : i64, kv_source_layer = 0 : i64, layer = 1 : i64, num_heads = 4 : i64,
            num_kv_heads = 2 : i64, rope = #gemma.rope<default>, rope_theta = 1.0e4 : f64,
            sliding_window = 3 : i64}
            : (tensor<?x{D}xf32>, index, tensor<24x{D}xbf16>, tensor<6xbf16>, tensor<{D}x24xbf16>)
              -> tensor<?x{D}xf32>)",
       {{"q", {24, D}}, {"qn", {6}}, {"k", {12, D}}, {"kn", {6}}, {"v", {12, D}}, {"o", {D, 24}},
        {"q2", {24, D}}}},
      {"Moe",
       R"(%r = gemma.weight "router" : tensor<3x{D}xbf16>
          %rs = gemma.weight "router_scale" : tensor<{D}xbf16>
          %pe = gemma.weight "per_expert" : tensor<3xbf16>
          %gu = gemma.weight "gate_up" : tensor<3x10x{D}xbf16>
          %dn = gemma.weight "down" : tensor<3x{D}x5xbf16>
          %y = gemma.moe %x, %x router(%r, %rs, %pe) experts(%gu, %dn) {eps = 1.0e-6 : f64, top_k = 2 : i64}
            : (tensor<?x{D}xf32>, tensor<?x{D}xf32>, tensor<3x{D}xbf16>, tensor<{D}xbf16>,
               tensor<3xbf16>, tensor<3x10x{D}xbf16>, tensor<3x{D}x5xbf16>) -> tensor<?x{D}xf32>)",
       {{"router", {3, D}}, {"router_scale", {D}}, {"per_expert", {3}}, {"gate_up", {3, 10, D}},
        {"down", {3, D, 5}}}},
      {"PerLayerEmbeddings",
       R"(%pt = gemma.weight "ple_table" : tensor<11x10xbf16>
          %pm = gemma.weight "ple_projection" : tensor<10x{D}xbf16>
          %pn = gemma.weight "ple_norm" : tensor<5xbf16>
          %p = gemma.ple_inputs %ids, %x, %pt, %pm, %pn {eps = 1.0e-6 : f64, token_scale = 2.236068 : f32}
            : (tensor<?xi32>, tensor<?x{D}xf32>, tensor<11x10xbf16>, tensor<10x{D}xbf16>,
               tensor<5xbf16>) -> tensor<?x2x5xf32>
          %ig = gemma.weight "input_gate" : tensor<5x{D}xbf16>
          %pp = gemma.weight "projection" : tensor<{D}x5xbf16>
          %y = gemma.ple_inject %x, %p, %ig, %pp {layer = 1 : i64}
            : (tensor<?x{D}xf32>, tensor<?x2x5xf32>, tensor<5x{D}xbf16>, tensor<{D}x5xbf16>)
              -> tensor<?x{D}xf32>)",
       {{"ple_table", {11, 10}}, {"ple_projection", {10, D}}, {"ple_norm", {5}},
        {"input_gate", {5, D}}, {"projection", {D, 5}}}},
  };
}

std::string replaceAll(std::string text, const std::string &from, const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

/// Whether this CPU runs the instructions of dot product `dot` at `vectorWidth` lanes.
bool hostHas(const std::string &dot, int64_t vectorWidth) {
  const CpuFeatureSet &host = hostCpuFeatures();
  if (dot == "dpbf16" || dot == "decode")
    return vectorWidth == 16 && host.contains("avx512bf16");
  if (dot == "vnni")
    return vectorWidth == 16 ? host.contains("avx512vnni")
                             : host.contains("avxvnni") ||
                                   (host.contains("avx512vnni") && host.contains("avx512vl"));
  if (dot == "maddubs")
    return host.contains(vectorWidth == 16 ? "avx512bw" : "avx2");
  return dot == "none";
}

/// An op, a hidden size, the format every matrix is stored in ("": the checkpoint's;
/// "q4_0/int8/vnni": int8 activations and that dot product; "bf16/bf16/dpbf16": bf16
/// activations and vdpbf16ps in every call, "decode" in calls of fewer than 16 tokens, or
/// "none"), the vector width and the number of workers.
class LoweredOps : public ::testing::TestWithParam<
                       std::tuple<OpCase, int64_t, std::string, int64_t, int64_t>> {};

} // namespace

TEST_P(LoweredOps, MatchInterpreter) {
  auto [op, hidden, formatSpec, vectorWidth, workers] = GetParam();
  auto [format, rest] = llvm::StringRef(formatSpec).split('/');
  auto [activations, dot] = rest.split('/');
  if (!dot.empty() && !hostHas(dot.str(), vectorWidth))
    GTEST_SKIP() << "this CPU lacks the instructions of " << dot.str();
  bool bf16 = activations == "bf16";
  std::string d = std::to_string(hidden);
  std::string text = fmt::format(R"(
    func.func @forward(%ids: tensor<?xi32>, %pos: index) -> tensor<?x{0}xf32> {{
      %table = gemma.weight "table" : tensor<{0}x{1}xbf16>
      %x = gemma.embed %ids, %table {{scale = 1.5 : f32}} : (tensor<?xi32>, tensor<{0}x{1}xbf16>) -> tensor<?x{1}xf32>
      {2}
      %head = gemma.weight "head" : tensor<{0}x{1}xf32>
      %logits = gemma.lm_head %y, %head {{softcap = 8.0 : f64}} : (tensor<?x{1}xf32>, tensor<{0}x{1}xf32>) -> tensor<?x{0}xf32>
      return %logits : tensor<?x{0}xf32>
    }})",
                                 kVocab, d, replaceAll(op.body, "{D}", d));
  test::SafeTensorsWriter writer;
  writer.addRandom("table", {kVocab, hidden}, true, 1);
  writer.addRandom("head", {kVocab, hidden}, false, 2);
  uint32_t seed = 3;
  for (auto [name, shape] : op.weights) {
    for (int64_t &dim : shape)
      dim = dim == D ? hidden : dim;
    writer.addRandom(name, shape, true, seed++);
  }
  std::unique_ptr<SafeTensorsFile> file = writer.open();
  gemma::WeightLookup lookup = [&](llvm::StringRef name) { return viewOf(file->find(name)); };

  mlir::DialectRegistry registry;
  registerPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  ASSERT_TRUE(module) << text;
  if (!format.empty())
    module->walk([&](gemma::WeightOp weight) {
      if (weight.getType().getRank() >= 2 && (dot.empty() || weight.getName() != "head")) {
        weight.setFormat(format);
        if (!activations.empty())
          weight.setActivations(activations);
      }
    });

  std::vector<int32_t> ids = {2, 7, 0, 10, 5, 5, 1};
  std::vector<std::pair<size_t, size_t>> calls = {{0, 3}, {3, 1}, {4, 3}};
  if (dot == "decode") { // both sides of the 16-token branch
    ids = {2, 7, 0, 10, 5, 5, 1, 3, 9, 4, 8, 6, 2, 2, 10, 0, 7, 1, 5, 9};
    calls = {{0, 17}, {17, 1}, {18, 2}};
  }
  int64_t maxChunk = int64_t(std::max_element(calls.begin(), calls.end(), [](auto a, auto b) {
                               return a.second < b.second;
                             })->second);
  std::vector<float> expected;
  gemma::Interpreter interpreter(module->lookupSymbol<mlir::func::FuncOp>("forward"), lookup);
  for (auto [start, count] : calls) {
    auto logits = interpreter.run(llvm::ArrayRef(ids).slice(start, count));
    ASSERT_TRUE(bool(logits)) << llvm::toString(logits.takeError());
    expected.insert(expected.end(), logits->data.begin(), logits->data.end());
  }
  std::unique_ptr<test::JitModel> jit =
      test::jitCompile(*module, lookup, maxChunk, vectorWidth, workers,
                       dot.empty() || bf16 ? "none" : dot.str(),
                       dot == "dpbf16" ? "all" : dot == "decode" ? "decode" : "none");
  ASSERT_TRUE(jit);
  std::vector<float> actual;
  for (auto [start, count] : calls) {
    std::vector<int32_t> part(ids.begin() + start, ids.begin() + start + count);
    std::vector<float> rows = jit->run(part, int64_t(start));
    actual.insert(actual.end(), rows.begin(), rows.end());
  }
  if (!bf16) {
    EXPECT_TRUE(test::allClose(actual, expected, 1e-4));
    return;
  }
  // bf16 activations: an activation within float rounding of a bf16 rounding boundary may be
  // rounded up here and down in the interpreter (which sums in double). Such a flip moves the
  // logits of its token by up to a few 1e-3 (measured: 5.3e-3, KV-shared attention at 8
  // lanes) and leaves the other tokens' within 1e-4: at most one token may differ more.
  int64_t flipped = 0;
  for (size_t row = 0; row < actual.size(); row += kVocab) {
    std::span<const float> got(actual.data() + row, kVocab), want(expected.data() + row, kVocab);
    EXPECT_TRUE(test::allClose(got, want, 2e-2)) << "token " << row / kVocab;
    flipped += !test::allClose(got, want, 1e-4);
  }
  EXPECT_LE(flipped, 1);
}

std::string caseName(const ::testing::TestParamInfo<LoweredOps::ParamType> &info) {
  auto [op, hidden, format, vectorWidth, workers] = info.param;
  std::string spelled = replaceAll(format, "/", "_");
  return op.name + "_hidden" + std::to_string(hidden) + (format.empty() ? "" : "_" + spelled) +
         "_" + std::to_string(vectorWidth) + "lanes_" + std::to_string(workers) + "workers";
}

INSTANTIATE_TEST_SUITE_P(EveryOp, LoweredOps,
                         ::testing::Combine(::testing::ValuesIn(opCases()),
                                            ::testing::Values(6, 16, 21),
                                            ::testing::Values(std::string()),
                                            ::testing::Values(4, 8, 16), ::testing::Values(1, 3)),
                         caseName);
INSTANTIATE_TEST_SUITE_P(EveryOpQuantized, LoweredOps,
                         ::testing::Combine(::testing::ValuesIn(opCases()),
                                            ::testing::Values(21, 45),
                                            ::testing::Values("q8_0", "q4_0", "q4_1", "q8_ch"),
                                            ::testing::Values(8), ::testing::Values(1)),
                         caseName);
// Quantized rows decode with loads as wide as the vector: every width, on 3 workers.
INSTANTIATE_TEST_SUITE_P(EveryOpQuantizedAtEveryWidth, LoweredOps,
                         ::testing::Combine(::testing::ValuesIn(opCases()),
                                            ::testing::Values(45),
                                            ::testing::Values("q8_0", "q4_0", "q4_1", "q8_ch"),
                                            ::testing::Values(4, 16), ::testing::Values(3)),
                         caseName);
// int8 activations: every integer dot product at the widths that have it, and without one.
INSTANTIATE_TEST_SUITE_P(EveryOpInt8, LoweredOps,
                         ::testing::Combine(::testing::ValuesIn(opCases()),
                                            ::testing::Values(64),
                                            ::testing::Values("q8_0/int8/none", "q4_0/int8/none",
                                                              "q8_0/int8/maddubs", "q4_0/int8/maddubs",
                                                              "q8_0/int8/vnni", "q4_0/int8/vnni"),
                                            ::testing::Values(8, 16), ::testing::Values(3)),
                         caseName);
// bf16 activations: vdpbf16ps where the CPU has it, and the f32 products of widened values.
INSTANTIATE_TEST_SUITE_P(EveryOpBf16, LoweredOps,
                         ::testing::Combine(::testing::ValuesIn(opCases()),
                                            ::testing::Values(64, 21),
                                            ::testing::Values("bf16/bf16/none", "bf16/bf16/dpbf16",
                                                              "bf16/bf16/decode"),
                                            ::testing::Values(8, 16), ::testing::Values(3)),
                         caseName);
