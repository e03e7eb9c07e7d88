//===- CpuForwardTest.cpp - Generated CPU code against reference logits ----===//
//
// Compiles each test checkpoint through the CPU pipeline, JIT-loads the generated code with
// MLIR's ExecutionEngine, and checks its logits against the reference files (llama.cpp for
// refdata, numpy for fixtures) and the greedy tokens — for prefill in one call, in chunks, and
// token by token, which must agree with each other within 1e-4 as well.

#include "JitModel.h"

#include "../NumericCompare.h"

#include "compiler/import/ImportCheckpoint.h"
#include "compiler/pipeline/Pipelines.h"

#include <gtest/gtest.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>
#include <mlir/IR/MLIRContext.h>

#include <cmath>
#include <fstream>

using namespace gemc;

namespace {

std::vector<float> readFloats(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

std::vector<int32_t> readTokens(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  auto json = llvm::json::parse((*buffer)->getBuffer());
  std::vector<int32_t> ids;
  for (const llvm::json::Value &v : *json->getAsObject()->getArray("tokens"))
    ids.push_back(int32_t(*v.getAsInteger()));
  return ids;
}

/// A checkpoint compiled and JIT-loaded, with the context that owns its module.
struct CompiledCheckpoint {
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<test::JitModel> jit;
};

CompiledCheckpoint compile(const std::string &dir, int64_t maxChunk) {
  CompiledCheckpoint compiled;
  llvm::Expected<Checkpoint> checkpoint = Checkpoint::open(dir);
  EXPECT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  mlir::DialectRegistry registry;
  registerPipelineDialects(registry);
  compiled.context = std::make_unique<mlir::MLIRContext>(registry);
  compiled.context->loadAllAvailableDialects();
  auto module = importCheckpoint(*compiled.context, *checkpoint);
  compiled.jit = test::jitCompile(
      *module, [&](llvm::StringRef name) { return viewOf(checkpoint->find(name)); }, maxChunk);
  return compiled;
}

class CpuForward : public ::testing::TestWithParam<std::string> {};

} // namespace

TEST_P(CpuForward, MatchesReferenceLogitsInEveryChunking) {
  std::string dir = std::string(GEMC_TEST_DATA_DIR) + "/" + GetParam();
  std::vector<int32_t> prompt = readTokens(dir + "/prompt.json");
  std::vector<int32_t> greedy = readTokens(dir + "/greedy.json");
  std::vector<float> reference = readFloats(dir + "/logits.f32");
  std::vector<float> greedyReference = readFloats(dir + "/greedy_logits.f32");
  reference.insert(reference.end(), greedyReference.begin(), greedyReference.end());

  std::vector<float> firstRun;
  for (int64_t chunk : {24, 5, 1}) {
    CompiledCheckpoint compiled = compile(dir, chunk);
    ASSERT_TRUE(compiled.jit);
    test::JitModel *model = compiled.jit.get();
    int64_t vocab = model->vocab;
    std::vector<float> logits;
    for (size_t start = 0; start < prompt.size(); start += chunk) {
      std::vector<int32_t> part(prompt.begin() + start,
                                prompt.begin() + std::min(prompt.size(), start + chunk));
      std::vector<float> rows = model->run(part, int64_t(start));
      logits.insert(logits.end(), rows.begin(), rows.end());
    }
    std::vector<int32_t> generated;
    for (size_t step = 0; step < greedy.size(); ++step) {
      const float *last = &logits[logits.size() - vocab];
      generated.push_back(int32_t(std::max_element(last, last + vocab) - last));
      if (step + 1 < greedy.size()) {
        std::vector<float> row = model->run({generated.back()}, int64_t(prompt.size() + step));
        logits.insert(logits.end(), row.begin(), row.end());
      }
    }
    EXPECT_EQ(generated, greedy) << "chunk " << chunk;
    ASSERT_EQ(logits.size(), (prompt.size() + greedy.size() - 1) * vocab);
    ASSERT_GE(reference.size(), logits.size());
    EXPECT_TRUE(test::allClose(logits, std::span(reference).first(logits.size()), 1e-3))
        << "chunk " << chunk;
    if (firstRun.empty()) {
      firstRun = logits;
      continue;
    }
    EXPECT_TRUE(test::allClose(logits, firstRun, 1e-4))
        << "chunk " << chunk << " against one batch";
  }
}

INSTANTIATE_TEST_SUITE_P(Refdata, CpuForward,
                         ::testing::Values("refdata/e2b-tiny", "refdata/moe-tiny",
                                           "refdata/dense-tiny"),
                         [](const auto &info) {
                           std::string name = info.param.substr(info.param.find('/') + 1);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });
INSTANTIATE_TEST_SUITE_P(Fixtures, CpuForward,
                         ::testing::Values("fixtures/no-ple", "fixtures/window-wider-than-prompt",
                                           "fixtures/window-1", "fixtures/gqa-groups",
                                           "fixtures/moe-topk-all", "fixtures/kv-share-far",
                                           "fixtures/odd-dims", "fixtures/f32-weights"),
                         [](const auto &info) {
                           std::string name = info.param.substr(info.param.find('/') + 1);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });
