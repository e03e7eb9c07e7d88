//===- CpuExecutorTest.cpp - Choosing between all workers and one ----------===//
//
// WorkerChoice measures all workers first, then one worker, then follows the faster, trying the
// other after kProbeInterval calls times how much slower it was; decode steps and longer calls
// are chosen apart.

#include "runtime/CpuExecutor.h"

#include <gtest/gtest.h>

namespace gemc {
namespace {

/// Runs `calls` decode steps, timing each as `allSeconds` or `oneSeconds`; returns how many
/// used all workers.
int64_t decode(WorkerChoice &choice, int64_t calls, double allSeconds, double oneSeconds) {
  int64_t all = 0;
  for (int64_t i = 0; i < calls; ++i) {
    bool useAll = choice.useAll(1);
    all += useAll;
    choice.record(1, useAll, useAll ? allSeconds : oneSeconds);
  }
  return all;
}

TEST(WorkerChoiceTest, MeasuresBothThenFollowsTheFasterAndProbesTheOther) {
  WorkerChoice choice;
  EXPECT_TRUE(choice.useAll(1));
  choice.record(1, true, 0.010);
  EXPECT_FALSE(choice.useAll(1));
  choice.record(1, false, 0.001);
  // One worker is 10 times faster (another program holds a core): the next probe of all
  // workers comes 32 x 10 calls after the last probe (call 1, the first run of one worker),
  // at call 321.
  EXPECT_EQ(decode(choice, 318, 0.010, 0.001), 0); // calls 2-319
  // The cores are free again: the probe at call 321 shows it and the choice follows (the next
  // probe of one worker, 10 times slower now, would be at call 641).
  EXPECT_EQ(decode(choice, 100, 0.0001, 0.001), 99); // calls 320-419
}

TEST(WorkerChoiceTest, DecodeStepsAndLongerCallsAreMeasuredApart) {
  WorkerChoice choice;
  decode(choice, 8, 0.010, 0.001); // decode steps prefer one worker
  EXPECT_TRUE(choice.useAll(64));  // a 64-token call has its own, unmeasured, averages
  choice.record(64, true, 0.064);
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
