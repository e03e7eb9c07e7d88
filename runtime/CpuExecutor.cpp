//===- CpuExecutor.cpp - Runs a dispatch table on the CPU ------------------===//

#include "runtime/CpuExecutor.h"

namespace gemc {

CpuExecutor::CpuExecutor(const CpuProgram &program, const CpuBuffers &buffers,
                         int64_t contextLength, WorkerPool &pool)
    : program_(program), pool_(pool), contextLength_(contextLength) {
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

bool CpuExecutor::run(int64_t tokens, int64_t startPos, int64_t logitsRows, std::string &) {
  const int64_t params[kParamCount] = {tokens, startPos, contextLength_, logitsRows};
  int64_t workers = pool_.size();
  auto step = [&](int64_t worker) {
    for (size_t d = 0; d < program_.kernels.size(); ++d) {
      if (d > 0) // every worker's share of the last dispatch is written before this one reads
        pool_.barrier();
      program_.kernels[d](pointers_.data() + first_[d], params, worker, workers);
    }
  };
  pool_.run(step);
  return true;
}

} // namespace gemc
