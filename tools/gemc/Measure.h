//===- Measure.h - Speed and traffic measurements of an artifact ------------===//
//
// What `gemc bench` and `gemc quant-explore` measure: prefill and decode speed through the
// runtime C API, the weight bytes one decode step reads, and the machine's memory read
// bandwidth on the same threads. Timings are reported, never asserted.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "gemc/runtime.h"
#include "runtime/artifact_generated.h"

#include <llvm/Support/Error.h>

#include <cstdint>

namespace gemc {

/// Bytes of weights one decode step reads: every tensor whole, except one row of the PLE table
/// and top_k of num_experts experts.
uint64_t weightBytesPerToken(const artifact::Manifest &manifest);

/// Best of three parallel passes summing a buffer much larger than the caches, in GB/s.
double measureReadBandwidth(int64_t threads);

struct Speed {
  double prefillTokensPerSecond = 0, decodeTokensPerSecond = 0;
};
/// Prefills `prompt` tokens, then decodes `generate` tokens greedily, from a fresh session
/// (reset first), timing each phase. The session's context must hold prompt + generate.
llvm::Expected<Speed> measureSpeed(gemc_session *session, int64_t prompt, int64_t generate);

} // namespace gemc
