//===- WorkerPoolTest.cpp - Jobs and barriers of the runtime's thread pool -===//
//
// Plain (non-atomic) data handed between workers across barriers, as the kernels of consecutive dispatches do: any
// missing ordering is a wrong sum here and a race report under ThreadSanitizer (build-tsan/).

#include "runtime/WorkerPool.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace gemc {
namespace {

class WorkerPoolTest : public testing::TestWithParam<int> {};

TEST_P(WorkerPoolTest, BarriersOrderPlainWritesAcrossManyJobs) {
  WorkerPool pool(GetParam());
  const int64_t workers = pool.size();
  std::vector<int64_t> slots(workers), sums(workers);
  for (int64_t round = 0; round < 200; ++round) {
    auto job = [&](int64_t worker) {
      for (int step = 0; step < 5; ++step) {
        slots[worker] = round * 10 + step + worker;
        pool.barrier();
        // Every worker reads every slot written before the barrier...
        sums[worker] = std::accumulate(slots.begin(), slots.end(), int64_t(0));
        // ...and nobody overwrites a slot before all have read it.
        pool.barrier();
      }
    };
    pool.run(job);
    int64_t expected = workers * (round * 10 + 4) + workers * (workers - 1) / 2;
    for (int64_t worker = 0; worker < workers; ++worker)
      ASSERT_EQ(sums[worker], expected) << "round " << round << " worker " << worker;
  }
}

TEST_P(WorkerPoolTest, EveryWorkerRunsEachJobOnce) {
  WorkerPool pool(GetParam());
  std::vector<int> runs(pool.size());
  auto job = [&](int64_t worker) { ++runs[worker]; };
  for (int i = 0; i < 50; ++i)
    pool.run(job);
  for (int count : runs)
    EXPECT_EQ(count, 50);
}

INSTANTIATE_TEST_SUITE_P(Workers, WorkerPoolTest, testing::Values(1, 2, 4, 7));

TEST(WorkerPoolSizeTest, AtLeastOneWorker) {
  EXPECT_EQ(WorkerPool(0).size(), 1);
  EXPECT_EQ(WorkerPool(-3).size(), 1);
}

} // namespace
} // namespace gemc
