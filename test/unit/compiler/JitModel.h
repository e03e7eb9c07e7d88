//===- JitModel.h - Generated CPU code, JIT-loaded for tests ---------------===//
//
// Lowers a gemma module through the CPU pipeline and loads the result with MLIR's
// ExecutionEngine, with its weight section, KV cache and scratch buffer, so tests can run the
// generated kernels through the runtime's own executor and worker pool.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialects/gemma/interpreter/Interpreter.h"
#include "runtime/CpuExecutor.h"

#include <mlir/ExecutionEngine/ExecutionEngine.h>
#include <mlir/IR/BuiltinOps.h>

#include <memory>
#include <vector>

namespace gemc::test {

struct JitModel {
  std::unique_ptr<mlir::ExecutionEngine> engine;
  CpuProgram program;
  std::vector<uint8_t> weights, kvCache, scratch;
  std::vector<int32_t> ids;
  std::vector<float> logits;
  int64_t vocab = 0, contextLength = 64;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<CpuExecutor> executor;

  /// Evaluates `ids` (at most max_chunk of them) at `start` and returns their logits.
  std::vector<float> run(const std::vector<int32_t> &ids, int64_t start);
};

/// Lowers `module` in place for `vectorWidth` f32 lanes (and the int8 dot product
/// `integerDot`, vdpbf16ps with `bf16Dot`) and JIT-loads it, to run on `workers` threads; null after a test failure.
std::unique_ptr<JitModel> jitCompile(mlir::ModuleOp module, const gemma::WeightLookup &weights,
                                     int64_t maxChunk, int64_t vectorWidth = 8,
                                     int64_t workers = 1, const std::string &integerDot = "none",
                                     const std::string &bf16Dot = "none");

} // namespace gemc::test
