//===- JitModel.cpp - Generated CPU code, JIT-loaded for tests -------------===//

#include "JitModel.h"

#include "compiler/pipeline/CpuPipeline.h"
#include "compiler/plan/MemoryPlan.h"

#include <gtest/gtest.h>
#include <llvm/Support/TargetSelect.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/ExecutionEngine/OptUtils.h>

#include <cstring>

namespace gemc::test {

std::vector<float> JitModel::run(const std::vector<int32_t> &ids, int64_t start) {
  std::vector<int32_t> tokens = ids;
  std::vector<float> logits(ids.size() * vocab);
  auto idsDesc = vectorDescriptor(tokens.data(), int64_t(tokens.size()));
  auto weightsDesc = vectorDescriptor(weights.data(), int64_t(weights.size()));
  auto kvDesc = vectorDescriptor(kvCache.data(), int64_t(kvCache.size()));
  auto scratchDesc = vectorDescriptor(scratch.data(), int64_t(scratch.size()));
  auto logitsDesc = matrixDescriptor(logits.data(), int64_t(ids.size()), vocab);
  if (!pool) {
    BarrierFunction noBarrier = [](void *) {};
    forward(&idsDesc, start, contextLength, &weightsDesc, &kvDesc, &scratchDesc, &logitsDesc,
            /*worker=*/0, /*workers=*/1, noBarrier, nullptr);
    return logits;
  }
  auto job = [&](int64_t worker) {
    forward(&idsDesc, start, contextLength, &weightsDesc, &kvDesc, &scratchDesc, &logitsDesc,
            worker, pool->size(), &WorkerPool::barrier, pool.get());
  };
  pool->run(job);
  return logits;
}

std::unique_ptr<JitModel> jitCompile(mlir::ModuleOp module, const gemma::WeightLookup &weights,
                                     int64_t maxChunk, int64_t vectorWidth, int64_t workers) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto model = std::make_unique<JitModel>();
  auto forward = module.lookupSymbol<mlir::func::FuncOp>("forward");
  model->vocab = mlir::cast<mlir::ShapedType>(forward.getResultTypes()[0]).getDimSize(1);
  WeightLayout layout = planWeightLayout(forward);
  KvCachePlan kv = planKvCache(forward, maxChunk);
  model->weights.resize(layout.totalBytes);
  for (const WeightLayout::Entry &entry : layout.entries) {
    TensorView tensor = *weights(entry.name);
    int64_t columns = tensor.shape.back();
    storeRows(tensor.dtype, tensor.data, tensor.numElements() / columns, columns, entry.format,
              model->weights.data() + entry.offset);
  }
  model->kvCache.assign(kv.bytes(model->contextLength), 0);
  if (workers > 1)
    model->pool = std::make_unique<WorkerPool>(workers);
  if (mlir::failed(lowerToLLVMDialect(module, {vectorWidth, maxChunk}))) {
    ADD_FAILURE() << "lowering failed";
    return nullptr;
  }
  auto scratchBytes = module->getAttrOfType<mlir::IntegerAttr>(kScratchBytesAttr);
  model->scratch.assign(scratchBytes.getInt(), 0);
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
  auto symbol = model->engine->lookup(kForwardCInterfaceSymbol);
  if (!symbol) {
    ADD_FAILURE() << llvm::toString(symbol.takeError());
    return nullptr;
  }
  model->forward = reinterpret_cast<ForwardFunction>(*symbol);
  return model;
}

} // namespace gemc::test
