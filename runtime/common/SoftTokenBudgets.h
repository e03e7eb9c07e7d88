//===- SoftTokenBudgets.h - How many soft tokens an image may become --------===//
//
// Gemma 4's image processor resizes an image to at most budget x 9 patches for one of five
// budgets (`_SUPPORTED_SOFT_TOKENS`); the checkpoint's processor_config.json picks the default
// and `--image-tokens` another. Shared by the frontends (which read the default) and the runtime.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace gemc {

inline constexpr std::array<int64_t, 5> kSoftTokenBudgets = {70, 140, 280, 560, 1120};

inline bool isSupportedSoftTokenBudget(int64_t tokens) {
  return std::find(kSoftTokenBudgets.begin(), kSoftTokenBudgets.end(), tokens) !=
         kSoftTokenBudgets.end();
}

} // namespace gemc
