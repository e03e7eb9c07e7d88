//===- WorkerPool.cpp - The threads that run generated code together ------===//

#include "runtime/WorkerPool.h"

namespace gemc {
namespace {
/// Spins on `done` a while, then yields the core between checks.
template <typename Done> void waitUntil(Done done) {
  for (int spins = 0; !done(); ++spins)
    if (spins > 2000)
      std::this_thread::yield();
}
} // namespace

WorkerPool::WorkerPool(int64_t workers) : workers_(workers < 1 ? 1 : workers) {
  for (int64_t worker = 1; worker < workers_; ++worker)
    threads_.emplace_back([this, worker] { helperLoop(worker); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread &thread : threads_)
    thread.join();
}

void WorkerPool::helperLoop(int64_t worker) {
  uint64_t seen = 0;
  for (;;) {
    JobRef job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_)
        return;
      seen = generation_;
      job = job_;
    }
    job.call(job.callable, worker);
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void WorkerPool::runJob(JobRef job) {
  if (workers_ == 1)
    return job.call(job.callable, 0);
  finished_.store(0, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = job;
    ++generation_;
  }
  wake_.notify_all();
  job.call(job.callable, 0);
  waitUntil([&] { return finished_.load(std::memory_order_acquire) == workers_ - 1; });
}

void WorkerPool::barrier() {
  if (workers_ == 1)
    return;
  // Sense-reversing: read the phase before arriving; the last to arrive advances it.
  uint64_t phase = phase_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) == workers_ - 1) {
    arrived_.store(0, std::memory_order_relaxed);
    phase_.store(phase + 1, std::memory_order_release);
    return;
  }
  waitUntil([&] { return phase_.load(std::memory_order_acquire) != phase; });
}

} // namespace gemc
