//===- CpuExecutor.h - Runs a dispatch table on the CPU -------------------===//
//
// The CPU side of the execution ABI (runtime/common/ExecutionAbi.h). A session resolves every
// binding of the dispatch table to a pointer once, when it knows its buffers and context
// length; a call then runs on the worker pool: each worker walks the dispatches, calls each
// kernel with its number, and meets the others at the pool's barrier before the next one.
// Nothing is allocated per call.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Executor.h"
#include "runtime/WorkerPool.h"
#include "runtime/common/ExecutionAbi.h"

#include <vector>

namespace gemc {

/// A dispatch table: each dispatch's kernel and bindings, in run order.
struct CpuProgram {
  std::vector<KernelFunction> kernels;
  std::vector<std::vector<BindingRange>> bindings;
};

/// The five run-time buffers (the token ids hold max_chunk ids, the logits max_chunk rows).
struct CpuBuffers {
  const void *weights;
  void *kvCache, *scratch;
  int32_t *tokenIds;
  float *logits;
};

class CpuExecutor : public Executor {
public:
  CpuExecutor(const CpuProgram &program, const CpuBuffers &buffers, int64_t contextLength,
              WorkerPool &pool);

  /// Runs every dispatch for `tokens` ids already in the token buffer, at `startPos`, writing
  /// the logits of the last `logitsRows` of them.
  bool run(int64_t tokens, int64_t startPos, int64_t logitsRows, std::string &error) override;

private:
  const CpuProgram &program_;
  WorkerPool &pool_;
  std::vector<void *> pointers_; // every binding, dispatch after dispatch
  std::vector<size_t> first_;    // the index of each dispatch's first binding in pointers_
  int64_t contextLength_;
};

} // namespace gemc
