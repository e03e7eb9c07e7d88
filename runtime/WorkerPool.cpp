//===- WorkerPool.cpp - The threads that run generated code together ------===//

#include "runtime/WorkerPool.h"

#include <chrono>

namespace gemc {
namespace {
/// Returns once `word` no longer holds `value`: spins (a CPU pause per check, 11 ns on the
/// 2-vCPU Sapphire Rapids VM: 8192 checks are ~90 us), then sleeps until a store to `word` is
/// notified. Measured there with a busy loop holding one core, E2B q4_0 and e2b-tiny, `-t 2`
/// over `-t 1`: 1024 checks gave 0.45-0.90x prefill and 0.12-0.72x decode (a partner woken
/// from sleep is late for the next dispatch); 8192 gave 0.95-1.03x and 0.85-0.98x; a timed
/// spin of 400 us fell to 0.3x decode (spinning takes the core the partner needs).
void waitWhileEquals(const std::atomic<uint32_t> &word, uint32_t value) {
  constexpr int kSpins = 1 << 13;
  for (int spins = 0; spins < kSpins; ++spins) {
    if (word.load(std::memory_order_acquire) != value)
      return;
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
  while (word.load(std::memory_order_acquire) == value)
    word.wait(value, std::memory_order_acquire);
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
    finished_.notify_one();
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
  for (uint32_t finished;
       (finished = finished_.load(std::memory_order_acquire)) !=
       uint32_t(workers_ - 1);)
    waitWhileEquals(finished_, finished);
}

void WorkerPool::barrier() {
  if (workers_ == 1)
    return;
  // Sense-reversing: read the phase before arriving; the last to arrive
  // advances it.
  uint32_t phase = phase_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) ==
      uint32_t(workers_ - 1)) {
    arrived_.store(0, std::memory_order_relaxed);
    phase_.store(phase + 1, std::memory_order_release);
    phase_.notify_all();
    return;
  }
  waitWhileEquals(phase_, phase);
}

double WorkerPool::barrierSeconds() {
  constexpr int kRounds = 16;
  auto start = std::chrono::steady_clock::now();
  auto job = [&](int64_t) {
    for (int round = 0; round < kRounds; ++round)
      barrier();
  };
  run(job);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / kRounds;
}

} // namespace gemc
