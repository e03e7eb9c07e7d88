//===- CpuForwardTest.cpp - Generated CPU code against reference logits ----===//
//
// Compiles each test checkpoint through the CPU pipeline, JIT-loads the generated code with
// MLIR's ExecutionEngine, and checks its logits against the reference files (llama.cpp for
// refdata, numpy for fixtures) and the greedy tokens — for prefill in one call, in chunks, and
// token by token, which must agree with each other within 1e-4 as well.

#include "compiler/import/ImportCheckpoint.h"
#include "compiler/pipeline/CpuPipeline.h"
#include "compiler/plan/MemoryPlan.h"
#include "runtime/ForwardAbi.h"

#include <gtest/gtest.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/ExecutionEngine/ExecutionEngine.h>
#include <mlir/ExecutionEngine/OptUtils.h>
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

/// A checkpoint compiled and JIT-loaded, with its weight section and a KV cache.
struct CompiledModel {
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  ForwardFunction forward = nullptr;
  std::vector<uint8_t> weights, kvCache, scratch;
  int64_t vocab = 0, contextLength = 64;

  /// Evaluates `ids` at `start` and returns their logits.
  std::vector<float> run(const std::vector<int32_t> &ids, int64_t start) {
    std::vector<int32_t> tokens = ids;
    std::vector<float> logits(ids.size() * vocab);
    auto idsDesc = vectorDescriptor(tokens.data(), int64_t(tokens.size()));
    auto weightsDesc = vectorDescriptor(weights.data(), int64_t(weights.size()));
    auto kvDesc = vectorDescriptor(kvCache.data(), int64_t(kvCache.size()));
    auto scratchDesc = vectorDescriptor(scratch.data(), int64_t(scratch.size()));
    auto logitsDesc = matrixDescriptor(logits.data(), int64_t(ids.size()), vocab);
    BarrierFunction noBarrier = [](void *) {}; // one worker
    forward(&idsDesc, start, contextLength, &weightsDesc, &kvDesc, &scratchDesc, &logitsDesc,
            /*worker=*/0, /*workers=*/1, noBarrier, nullptr);
    return logits;
  }
};

std::unique_ptr<CompiledModel> compile(const std::string &dir, int64_t maxChunk) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto model = std::make_unique<CompiledModel>();
  llvm::Expected<Checkpoint> checkpoint = Checkpoint::open(dir);
  EXPECT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  mlir::DialectRegistry registry;
  registerCpuPipelineDialects(registry);
  model->context = std::make_unique<mlir::MLIRContext>(registry);
  model->context->loadAllAvailableDialects();
  auto module = importCheckpoint(*model->context, *checkpoint);
  auto forward = module->lookupSymbol<mlir::func::FuncOp>("forward");
  WeightLayout layout = planWeightLayout(forward);
  KvCachePlan kv = planKvCache(forward, maxChunk);
  model->weights.resize(layout.totalBytes);
  for (const WeightLayout::Entry &entry : layout.entries) {
    const TensorInfo *tensor = checkpoint->find(entry.name);
    std::memcpy(model->weights.data() + entry.offset, tensor->data, entry.bytes);
  }
  model->kvCache.assign(kv.bytes(model->contextLength), 0);
  model->vocab = checkpoint->config().vocabSize;
  EXPECT_TRUE(mlir::succeeded(lowerToLLVMDialect(*module, {8, maxChunk})));
  auto scratchBytes = (*module)->getAttrOfType<mlir::IntegerAttr>(kScratchBytesAttr);
  model->scratch.assign(scratchBytes.getInt(), 0);
  mlir::ExecutionEngineOptions options;
  options.transformer = mlir::makeOptimizingTransformer(2, 0, nullptr);
  auto engine = mlir::ExecutionEngine::create(*module, options);
  EXPECT_TRUE(bool(engine)) << llvm::toString(engine.takeError());
  model->engine = std::move(*engine);
  auto symbol = model->engine->lookup(kForwardCInterfaceSymbol);
  EXPECT_TRUE(bool(symbol)) << llvm::toString(symbol.takeError());
  model->forward = reinterpret_cast<ForwardFunction>(*symbol);
  return model;
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
    std::unique_ptr<CompiledModel> model = compile(dir, chunk);
    ASSERT_TRUE(model->forward);
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
    float worst = 0;
    for (size_t i = 0; i < logits.size(); ++i)
      worst = std::max(worst, std::fabs(logits[i] - reference[i]));
    EXPECT_LE(worst, 1e-3f) << "chunk " << chunk;
    if (firstRun.empty()) {
      firstRun = logits;
      continue;
    }
    float drift = 0;
    for (size_t i = 0; i < logits.size(); ++i)
      drift = std::max(drift, std::fabs(logits[i] - firstRun[i]));
    EXPECT_LE(drift, 1e-4f) << "chunk " << chunk << " against one batch";
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
