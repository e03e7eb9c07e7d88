//===- CpuExecutor.cpp - Runs a dispatch table on the CPU ------------------===//

#include "runtime/CpuExecutor.h"

#include <algorithm>
#include <chrono>

namespace gemc {
namespace {
/// A barrier on free cores takes about a microsecond; one whose partner has no core waits for
/// the scheduler (milliseconds).
constexpr double kBusyBarrierSeconds = 50e-6;
} // namespace

CpuExecutor::CpuExecutor(const CpuProgram &program, const CpuBuffers &buffers,
                         int64_t contextLength, WorkerPool &pool)
    : program_(program), pool_(pool), contextLength_(contextLength),
      choice_(pool.size() > 1 && pool.barrierSeconds() > kBusyBarrierSeconds) {
  auto base = [&](BufferKind kind) -> uint8_t * {
    switch (kind) {
    case BufferKind::Weights: return static_cast<uint8_t *>(const_cast<void *>(buffers.weights));
    case BufferKind::KvCache: return static_cast<uint8_t *>(buffers.kvCache);
    case BufferKind::Scratch: return static_cast<uint8_t *>(buffers.scratch);
    case BufferKind::TokenIds: return reinterpret_cast<uint8_t *>(buffers.tokenIds);
    case BufferKind::Logits: return reinterpret_cast<uint8_t *>(buffers.logits);
    }
    return nullptr;
  };
  for (const std::vector<BindingRange> &bindings : program.bindings) {
    first_.push_back(pointers_.size());
    for (const BindingRange &binding : bindings)
      pointers_.push_back(base(binding.buffer) + binding.offsetAt(contextLength));
  }
  first_.push_back(pointers_.size());
}

bool WorkerChoice::useAll(int64_t tokens) {
  Kind &kind = kindOf(tokens);
  int64_t call = kind.calls++;
  const double *measured = kind.secondsPerToken;
  if (measured[0] == 0 && measured[1] == 0) { // the first call of this kind
    kind.lastProbe = call;
    return !oneFirst_;
  }
  if (measured[1] == 0) { // one worker went first (busy partners): measure all next
    kind.lastProbe = call;
    return true;
  }
  // With free cores at the start, one worker is first measured at the first probe, as if it
  // had been as fast as all: a probe costs a whole call, and early calls are the ones a user
  // times (a prompt's second chunk, a short benchmark).
  double one = measured[0] == 0 ? measured[1] : measured[0];
  bool allFaster = measured[1] <= one;
  // A probe costs what the slower choice costs: probing every kProbeInterval calls times the
  // ratio of the two keeps probes to about 1 / kProbeInterval of the time.
  double ratio = std::max(one, measured[1]) / std::min(one, measured[1]);
  double interval = double(kProbeInterval) * std::min(ratio, 1024.0);
  if (double(call - kind.lastProbe) < interval)
    return allFaster;
  kind.lastProbe = call;
  return !allFaster;
}

void WorkerChoice::record(int64_t tokens, bool all, double seconds) {
  double *averages = kindOf(tokens).secondsPerToken;
  double sample = seconds / double(tokens);
  // A probe of the choice not taken is the latest news about it: it replaces the average.
  bool preferred = averages[!all] == 0 || all == (averages[1] <= averages[0]);
  double &average = averages[all];
  average = average == 0 || !preferred ? sample : 0.7 * average + 0.3 * sample;
}

bool CpuExecutor::run(int64_t tokens, int64_t startPos, int64_t logitsRows, std::string &) {
  const int64_t params[kParamCount] = {tokens, startPos, contextLength_, logitsRows};
  bool all = pool_.size() > 1 && choice_.useAll(tokens);
  int64_t workers = all ? pool_.size() : 1;
  auto step = [&](int64_t worker) {
    for (size_t d = 0; d < program_.kernels.size(); ++d) {
      if (d > 0 && all) // every worker's share of the last dispatch is written before this one
        pool_.barrier();
      program_.kernels[d](pointers_.data() + first_[d], params, worker, workers);
    }
  };
  auto start = std::chrono::steady_clock::now();
  if (all)
    pool_.run(step);
  else
    step(0);
  if (pool_.size() > 1)
    choice_.record(tokens, all,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return true;
}

} // namespace gemc
