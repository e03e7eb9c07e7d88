//===- InterpreterTest.cpp - Reference interpreter on hand-computed cases ---===//
//
// Tiny modules whose results are worked out by hand in each test (in double precision, from the
// formulas of gemma4-architecture.md), independent of the interpreter's code.

#include "dialects/gemma/interpreter/Interpreter.h"

#include "dialects/gemma/GemmaDialect.h"

#include <gtest/gtest.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/Parser/Parser.h>

#include "../../TestSafeTensors.h"

#include <cmath>

using namespace gemc;

namespace {

class InterpreterTest : public ::testing::Test {
protected:
  InterpreterTest() {
    mlir::DialectRegistry registry;
    gemma::registerModuleDialects(registry);
    context_.appendDialectRegistry(registry);
    context_.loadAllAvailableDialects();
  }

  /// Parses the forward function made of `body` and an interpreter for it.
  gemma::Interpreter load(const std::string &resultType, const std::string &body) {
    std::string text = "func.func @forward(%ids: tensor<?xi32>, %pos: index) -> " + resultType +
                       " {\n" + body + "\n}";
    module_ = mlir::parseSourceString<mlir::ModuleOp>(text, &context_);
    EXPECT_TRUE(module_) << text;
    file_ = weights_.open();
    return gemma::Interpreter(module_->lookupSymbol<mlir::func::FuncOp>("forward"),
                              [&](llvm::StringRef name) { return viewOf(file_->find(name)); });
  }

  /// The error of running `body` on `ids`, or "" if it succeeds.
  std::string errorOf(const std::string &resultType, const std::string &body,
                      const std::vector<int32_t> &ids) {
    gemma::Interpreter interpreter = load(resultType, body);
    auto result = interpreter.run(ids);
    return result ? std::string() : llvm::toString(result.takeError());
  }

  /// Runs `body` (the forward function's ops) on `ids` in calls of the given sizes.
  std::vector<gemma::Tensor> run(const std::string &resultType, const std::string &body,
                                 const std::vector<int32_t> &ids, std::vector<size_t> calls) {
    gemma::Interpreter interpreter = load(resultType, body);
    std::vector<gemma::Tensor> results;
    size_t next = 0;
    for (size_t count : calls) {
      auto result = interpreter.run(llvm::ArrayRef(ids).slice(next, count));
      EXPECT_TRUE(bool(result)) << llvm::toString(result.takeError());
      results.push_back(*result);
      next += count;
    }
    return results;
  }

  mlir::MLIRContext context_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
  test::SafeTensorsWriter weights_;
  std::unique_ptr<SafeTensorsFile> file_;
};

double gelu(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

} // namespace

TEST_F(InterpreterTest, EmbedNormScalarAndSoftcappedHead) {
  weights_.addF32("table", {3, 2}, {3, 4, 1, 0, 0, -2});
  weights_.addF32("gain", {2}, {1, 0.5});
  weights_.addF32("scalar", {1}, {2});
  auto logits = run("tensor<?x3xf32>", R"(
    %t = gemma.weight "table" : tensor<3x2xf32>
    %x = gemma.embed %ids, %t {scale = 2.0 : f32} : (tensor<?xi32>, tensor<3x2xf32>) -> tensor<?x2xf32>
    %g = gemma.weight "gain" : tensor<2xf32>
    %n = gemma.rms_norm %x, %g {eps = 1.0e-6 : f64} : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    %s = gemma.weight "scalar" : tensor<1xf32>
    %y = gemma.layer_scalar %n, %s : (tensor<?x2xf32>, tensor<1xf32>) -> tensor<?x2xf32>
    %l = gemma.lm_head %y, %t {softcap = 2.0 : f64} : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
    return %l : tensor<?x3xf32>)",
                    {0}, {1});
  // x = 2 * [3, 4] = [6, 8]; rms = sqrt((36 + 64) / 2 + 1e-6); y = x / rms * [1, 0.5] * 2.
  double rms = std::sqrt(50 + 1e-6), y0 = 6 / rms * 2, y1 = 8 / rms * 0.5 * 2;
  double raw[3] = {3 * y0 + 4 * y1, y0, -2 * y1};
  for (int v = 0; v < 3; ++v)
    EXPECT_NEAR(logits[0].data[v], 2 * std::tanh(raw[v] / 2), 1e-6);
}

namespace {
// Two tokens x0 = [1, 1], x1 = [1, -1] (rms 1, so the norms leave them unchanged); identity
// projections, head_dim 2, RoPE theta 10000 (inv_freq[0] = 1: position p rotates by p radians).
const char *kAttentionBody = R"(
    %t = gemma.weight "table" : tensor<2x2xf32>
    %x = gemma.embed %ids, %t {scale = 1.0 : f32} : (tensor<?xi32>, tensor<2x2xf32>) -> tensor<?x2xf32>
    %i = gemma.weight "identity" : tensor<2x2xf32>
    %one = gemma.weight "ones" : tensor<2xf32>
    %a = gemma.attention %x at %pos q(%i, %one) k(%i, %one) v(%i) o(%i) {eps = 1.0e-9 : f64,
        head_dim = 2 : i64, layer = 0 : i64, num_heads = 1 : i64, num_kv_heads = 1 : i64,
        rope = #gemma.rope<default>, rope_theta = 1.0e4 : f64 WINDOW}
      : (tensor<?x2xf32>, index, tensor<2x2xf32>, tensor<2xf32>, tensor<2x2xf32>, tensor<2xf32>,
         tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
    return %a : tensor<?x2xf32>)";

std::string attentionBody(const std::string &window) {
  std::string body = kAttentionBody;
  return body.replace(body.find("WINDOW"), 6, window);
}
} // namespace

TEST_F(InterpreterTest, AttentionIsCausalWithRotateHalfRope) {
  weights_.addF32("table", {2, 2}, {1, 1, 1, -1});
  weights_.addF32("identity", {2, 2}, {1, 0, 0, 1});
  weights_.addF32("ones", {2}, {1, 1});
  // Prefill both tokens at once, then the same two tokens one call each: same rows.
  for (std::vector<size_t> calls : {std::vector<size_t>{2}, std::vector<size_t>{1, 1}}) {
    auto results = run("tensor<?x2xf32>", attentionBody(""), {0, 1}, calls);
    std::vector<float> out;
    for (const gemma::Tensor &t : results)
      out.insert(out.end(), t.data.begin(), t.data.end());
    // Token 0 sees only itself: out = v0 = [1, 1].
    EXPECT_NEAR(out[0], 1, 1e-6);
    EXPECT_NEAR(out[1], 1, 1e-6);
    // Token 1: q = rot(x1, 1) = [cos1 + sin1, sin1 - cos1]; k0 = x0, k1 = rot(x1, 1).
    // q.k0 = 2 sin 1, q.k1 = |x1|^2 = 2 (scale 1.0); out = p0 v0 + p1 v1.
    double s0 = 2 * std::sin(1.0), s1 = 2, p0 = std::exp(s0) / (std::exp(s0) + std::exp(s1));
    EXPECT_NEAR(out[2], p0 * 1 + (1 - p0) * 1, 1e-6);
    EXPECT_NEAR(out[3], p0 * 1 + (1 - p0) * -1, 1e-6);
  }
}

TEST_F(InterpreterTest, SlidingWindowOfOneSeesOnlyTheCurrentToken) {
  weights_.addF32("table", {2, 2}, {1, 1, 1, -1});
  weights_.addF32("identity", {2, 2}, {1, 0, 0, 1});
  weights_.addF32("ones", {2}, {1, 1});
  auto out = run("tensor<?x2xf32>", attentionBody(", sliding_window = 1 : i64"), {0, 1}, {2});
  EXPECT_NEAR(out[0].data[2], 1, 1e-6);
  EXPECT_NEAR(out[0].data[3], -1, 1e-6);
}

TEST_F(InterpreterTest, MoeBreaksTiesTowardsTheLowerExpertAndAppliesItsScale) {
  // Two experts with equal router logits (zero router weights), top_k 1: expert 0 wins the tie.
  // Expert e: gate row [1, 0], up row [0, 1], so its hidden value is gelu(x0) * x1; expert 0
  // writes it to output channel 0, expert 1 to channel 1.
  weights_.addF32("table", {1, 2}, {1.0f, 0.5f});
  weights_.addF32("router", {2, 2}, {0, 0, 0, 0});
  weights_.addF32("router_scale", {2}, {1, 1});
  weights_.addF32("per_expert", {2}, {3, 5});
  weights_.addF32("gate_up", {2, 2, 2}, {1, 0, 0, 1, 1, 0, 0, 1});
  weights_.addF32("down", {2, 2, 1}, {1, 0, 0, 1});
  auto out = run("tensor<?x2xf32>", R"(
    %t = gemma.weight "table" : tensor<1x2xf32>
    %x = gemma.embed %ids, %t {scale = 1.0 : f32} : (tensor<?xi32>, tensor<1x2xf32>) -> tensor<?x2xf32>
    %r = gemma.weight "router" : tensor<2x2xf32>
    %rs = gemma.weight "router_scale" : tensor<2xf32>
    %pe = gemma.weight "per_expert" : tensor<2xf32>
    %gu = gemma.weight "gate_up" : tensor<2x2x2xf32>
    %d = gemma.weight "down" : tensor<2x2x1xf32>
    %m = gemma.moe %x, %x router(%r, %rs, %pe) experts(%gu, %d) {eps = 1.0e-6 : f64, top_k = 1 : i64}
      : (tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>,
         tensor<2x2x2xf32>, tensor<2x2x1xf32>) -> tensor<?x2xf32>
    return %m : tensor<?x2xf32>)",
                   {0}, {1});
  // Weight after renormalising over the one chosen expert is 1, times its scale 3.
  EXPECT_NEAR(out[0].data[0], 3 * gelu(1.0) * 0.5, 1e-6);
  EXPECT_EQ(out[0].data[1], 0.0f);
}

namespace {
/// An embedding of a 2x2 f32 table declared with `tableType` in the IR.
std::string embedOnly(const std::string &tableType) {
  return "%t = gemma.weight \"table\" : " + tableType +
         "\n %x = gemma.embed %ids, %t {scale = 1.0 : f32} : (tensor<?xi32>, " + tableType +
         ") -> tensor<?x2xf32>\n return %x : tensor<?x2xf32>";
}
} // namespace

TEST_F(InterpreterTest, RejectsTokenIdsOutsideTheTable) {
  weights_.addF32("table", {2, 2}, {1, 1, 1, -1});
  EXPECT_EQ(errorOf("tensor<?x2xf32>", embedOnly("tensor<2x2xf32>"), {2}),
            "token id 2 is outside the vocabulary [0, 2)");
}

TEST_F(InterpreterTest, RejectsAWeightWhoseDtypeDiffersFromTheIR) {
  weights_.addF32("table", {2, 2}, {1, 1, 1, -1});
  EXPECT_EQ(errorOf("tensor<?x2xf32>", embedOnly("tensor<2x2xbf16>"), {1}),
            "interpreter: tensor 'table' is F32 [2, 2] in the checkpoint but the IR says BF16 "
            "[2, 2]");
}
