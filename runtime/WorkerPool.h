//===- WorkerPool.h - The threads that run generated code together --------===//
//
// A fixed pool created once per session. run() calls job(worker) on every worker (the caller is
// worker 0) and returns when all are done; generated code calls barrier() between dependent
// steps. Workers spin briefly, then yield, while they wait: a decode step has hundreds of
// barriers, each of which a sleeping thread would make slow.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gemc {

class WorkerPool {
public:
  explicit WorkerPool(int64_t workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool &) = delete;
  WorkerPool &operator=(const WorkerPool &) = delete;

  int64_t size() const { return workers_; }
  void run(const std::function<void(int64_t)> &job);
  /// The generated code's barrier: `context` is the pool.
  static void barrier(void *context);

private:
  void helperLoop(int64_t worker);

  int64_t workers_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(int64_t)> *job_ = nullptr;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::atomic<int64_t> finished_{0};
  std::atomic<int64_t> arrived_{0};
  std::atomic<uint64_t> phase_{0};
};

} // namespace gemc
