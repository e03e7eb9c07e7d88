//===- Executor.h - What runs a session's forward steps ----------------------===//
//
// A session owns an executor for its artifact's target: CpuExecutor (the kernels over the
// worker pool) or VulkanExecutor (the kernels as one recorded command buffer). Both read the
// call's ids from the session's token buffer and leave the logits of the call's last
// `logitsRows` tokens, row after row, in the session's logits buffer.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace gemc {

class Executor {
public:
  virtual ~Executor() = default;
  /// One forward step of `tokens` ids at `startPos`; false with `error` if the device failed.
  virtual bool run(int64_t tokens, int64_t startPos, int64_t logitsRows, std::string &error) = 0;
};

} // namespace gemc
