//===- CpuExecutorTest.cpp - Choosing between all workers and one ----------===//
//
// WorkerChoice runs all workers first and tries one worker at call kProbeInterval (at the second
// call when the partners looked busy at the start), then follows the faster, trying the other
// after kProbeInterval calls times how much slower it was; decode steps and longer calls are
// chosen apart.

#include "runtime/CpuExecutor.h"

#include <gtest/gtest.h>

namespace gemc {
namespace {

/// Makes `count` calls of `tokens` tokens, timing each as `allSeconds` or `oneSeconds`;
/// returns how many used all workers.
int64_t makeCalls(WorkerChoice &choice, int64_t tokens, int64_t count, double allSeconds,
                  double oneSeconds) {
  int64_t all = 0;
  for (int64_t i = 0; i < count; ++i) {
    bool useAll = choice.useAll(tokens);
    all += useAll;
    choice.record(tokens, useAll, useAll ? allSeconds : oneSeconds);
  }
  return all;
}

TEST(WorkerChoiceTest, TriesOneWorkerAtTheFirstProbeThenFollowsTheFaster) {
  WorkerChoice choice;
  // Calls 0-31 use all workers; call 32 is the first probe of one worker.
  EXPECT_EQ(makeCalls(choice, 1, 32, 0.010, 0.001), 32);
  EXPECT_FALSE(choice.useAll(1));
  choice.record(1, false, 0.001);
  // One worker is 10 times faster (another program holds a core): the next probe of all
  // workers comes 32 x 10 calls after the last probe (call 32), at call 352.
  EXPECT_EQ(makeCalls(choice, 1, 319, 0.010, 0.001), 0); // calls 33-351
  // The cores are free again: the probe at call 352 shows it and the choice follows (the next
  // probe of one worker, 10 times slower now, would be at call 672).
  EXPECT_EQ(makeCalls(choice, 1, 100, 0.0001, 0.001), 100); // calls 352-451
}

TEST(WorkerChoiceTest, DecodeStepsAndLongerCallsAreMeasuredApart) {
  WorkerChoice choice;
  makeCalls(choice, 1, 40, 0.010, 0.001); // decode steps come to prefer one worker
  EXPECT_FALSE(choice.useAll(1));
  // A 64-token call has its own averages: all workers first, one at its own first probe.
  EXPECT_EQ(makeCalls(choice, 64, 32, 0.064, 0.640), 32);
  EXPECT_FALSE(choice.useAll(64));
  choice.record(64, false, 0.640);
  EXPECT_TRUE(choice.useAll(64));
  EXPECT_FALSE(choice.useAll(1));
}

TEST(WorkerChoiceTest, BusyPartnersAtTheStartMeasureOneWorkerFirst) {
  WorkerChoice choice(/*partnersBusy=*/true);
  EXPECT_FALSE(choice.useAll(64));
  choice.record(64, false, 0.064);
  EXPECT_TRUE(choice.useAll(64));
  choice.record(64, true, 0.640);
  EXPECT_FALSE(choice.useAll(64));
}

} // namespace
} // namespace gemc
