//===- CpuExecutor.h - Runs a dispatch table on the CPU -------------------===//
//
// The CPU side of the execution ABI (runtime/common/ExecutionAbi.h). A session resolves every
// binding of the dispatch table to a pointer once, when it knows its buffers and context
// length; a call then runs on the worker pool: each worker walks the dispatches, calls each
// kernel with its number, and meets the others at the pool's barrier before the next one.
// Nothing is allocated per call. WorkerChoice may run a call on the calling thread alone.
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

/// Chooses, call by call, between all of the pool's workers and one. Splitting a call pays only
/// while every worker has a core: when another program holds one, a worker waits at each
/// barrier for a partner that is not running, and a call can take many times longer than on
/// one thread. The results are the same bit for bit either way (every kernel sums in the same
/// order however its work is split), so the choice may follow the clock: separately for decode
/// steps and for longer calls, it keeps the seconds per token of each choice (a moving average
/// for the one it takes, the last probe for the other), takes the faster, and tries the other
/// again after kProbeInterval calls times how many times slower it was (so that probing costs
/// about 1 / kProbeInterval of the time). All workers go first; one worker is first tried at
/// call kProbeInterval, or at the second call when the partners looked busy at the start.
class WorkerChoice {
public:
  static constexpr int64_t kProbeInterval = 32;
  /// `partnersBusy`: the workers looked descheduled when the session started (slow barriers),
  /// so the first call of each kind runs on one worker and all workers run the second.
  explicit WorkerChoice(bool partnersBusy = false) : oneFirst_(partnersBusy) {}
  /// Whether the next call, of `tokens` tokens, should use every worker.
  bool useAll(int64_t tokens);
  void record(int64_t tokens, bool all, double seconds);

private:
  struct Kind {
    double secondsPerToken[2] = {0, 0}; // [one worker, all]; 0: not measured yet
    int64_t calls = 0, lastProbe = 0; // call numbers
  };
  Kind &kindOf(int64_t tokens) { return kinds_[tokens > 1]; }
  Kind kinds_[2];
  bool oneFirst_;
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
  WorkerChoice choice_;
};

} // namespace gemc
