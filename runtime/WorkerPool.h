//===- WorkerPool.h - The threads that run generated code together --------===//
//
// A fixed pool created once per session. run() calls job(worker) on every worker (the caller is
// worker 0) and returns when all are done; a job calls barrier() between dependent steps (the
// CPU executor, between dispatches). A waiting worker spins briefly, then sleeps on a futex
// (std::atomic::wait): a decode step has hundreds of barriers microseconds apart, which spinning
// keeps fast, but when another program holds a core a partner may be descheduled for a whole
// time slice, and a worker that kept spinning (or only yielded) would burn the core that
// partner needs. The last to arrive wakes the sleepers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <condition_variable>
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
  /// Runs job(worker) on every worker. Takes the job by reference, without a std::function,
  /// so that a decode step allocates nothing.
  template <typename Job> void run(Job &job) {
    runJob({&job, [](void *callable, int64_t worker) { (*static_cast<Job *>(callable))(worker); }});
  }
  /// Returns when every worker of the running job has called it.
  void barrier();
  /// The mean time of a barrier in a job of nothing but barriers: about a microsecond when
  /// every worker has a core, far more when other programs keep some from running.
  double barrierSeconds();

private:
  struct JobRef {
    void *callable;
    void (*call)(void *callable, int64_t worker);
  };
  void runJob(JobRef job);
  void helperLoop(int64_t worker);

  int64_t workers_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  JobRef job_{nullptr, nullptr};
  uint64_t generation_ = 0;
  bool stopping_ = false;
  // 32-bit words: what std::atomic::wait turns into a futex.
  std::atomic<uint32_t> finished_{0};
  std::atomic<uint32_t> arrived_{0};
  std::atomic<uint32_t> phase_{0};
};

} // namespace gemc
