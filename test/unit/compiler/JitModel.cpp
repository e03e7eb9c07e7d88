//===- JitModel.cpp - Generated CPU code, JIT-loaded for tests -------------===//

#include "JitModel.h"

#include "compiler/pipeline/Pipelines.h"
#include "compiler/plan/MemoryPlan.h"

#include <gtest/gtest.h>
#include <llvm/Support/TargetSelect.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/ExecutionEngine/OptUtils.h>

#include <algorithm>

namespace gemc::test {

std::vector<float> JitModel::run(const std::vector<int32_t> &tokens, int64_t start) {
  std::copy(tokens.begin(), tokens.end(), ids.begin());
  int64_t count = int64_t(tokens.size());
  std::string error;
  executor->run(count, start, count, error);
  return std::vector<float>(logits.begin(), logits.begin() + count * vocab);
}

std::unique_ptr<JitModel> jitCompile(mlir::ModuleOp module, const gemma::WeightLookup &weights,
                                     int64_t maxChunk, int64_t vectorWidth, int64_t workers,
                                     const std::string &integerDot,
                                     const std::string &bf16Dot) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto model = std::make_unique<JitModel>();
  auto forward = module.lookupSymbol<mlir::func::FuncOp>("forward");
  model->vocab = mlir::cast<mlir::ShapedType>(forward.getResultTypes()[0]).getDimSize(1);
  mlir::FailureOr<MemoryPlan> plan;
  CpuKernelOptions cpu{vectorWidth, integerDot, bf16Dot};
  if (mlir::succeeded(formAndPlanDispatches(module, maxChunk, &cpu)))
    plan = readMemoryPlan(module);
  if (mlir::failed(plan) || mlir::failed(lowerDispatchesToLLVM(module, cpu))) {
    ADD_FAILURE() << "lowering failed";
    return nullptr;
  }
  model->weights.resize(plan->weights.totalBytes);
  for (const WeightLayout::Entry &entry : plan->weights.entries) {
    TensorView tensor = *weights(entry.name);
    int64_t columns = tensor.shape.back();
    storeRows(tensor.dtype, tensor.data, tensor.numElements() / columns, columns, entry.format,
              model->weights.data() + entry.offset, entry.tileRows);
  }
  model->kvCache.assign(plan->kvCache.fixedBytes +
                            plan->kvCache.perContextBytes * uint64_t(model->contextLength),
                        0);
  model->scratch.assign(plan->scratchBytes, 0);
  model->ids.assign(size_t(maxChunk), 0);
  model->logits.assign(size_t(maxChunk * model->vocab), 0.0f);
  // ExecutionEngineOptions holds a function_ref: the transformer must outlive create().
  std::function<llvm::Error(llvm::Module *)> optimize =
      mlir::makeOptimizingTransformer(2, 0, nullptr);
  mlir::ExecutionEngineOptions options;
  options.transformer = optimize;
  auto engine = mlir::ExecutionEngine::create(module, options);
  if (!engine) {
    ADD_FAILURE() << llvm::toString(engine.takeError());
    return nullptr;
  }
  model->engine = std::move(*engine);
  for (const auto &[i, dispatch] : llvm::enumerate(plan->dispatches)) {
    auto symbol = model->engine->lookup(kernelSymbol(i, dispatch.name));
    if (!symbol) {
      ADD_FAILURE() << llvm::toString(symbol.takeError());
      return nullptr;
    }
    model->program.kernels.push_back(reinterpret_cast<KernelFunction>(*symbol));
    model->program.bindings.push_back(dispatch.bindings);
  }
  model->pool = std::make_unique<WorkerPool>(workers);
  model->executor = std::make_unique<CpuExecutor>(
      model->program,
      CpuBuffers{model->weights.data(), model->kvCache.data(), model->scratch.data(),
                 model->ids.data(), model->logits.data()},
      model->contextLength, *model->pool);
  return model;
}

} // namespace gemc::test
