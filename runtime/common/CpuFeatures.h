//===- CpuFeatures.h - What the running CPU can execute --------------------===//
//
// An artifact's target lists the instruction-set features its code was compiled for, in LLVM's
// spelling ("+avx2,+fma,+avx512f"). Before any generated code runs, the runtime compares that
// list with what this CPU and its operating system support, read directly from CPUID and XCR0
// (x86-64) or the auxiliary vector (AArch64): an AVX-512 artifact on an AVX2 machine is then
// refused with a message instead of dying with SIGILL. No LLVM here (the runtime has none), so
// the table of detectable features lives in CpuFeatures.cpp; an artifact that requires a feature
// the table does not know is refused too, and `gemc compile --target host` asks only for
// features in the table (targets/cpu links it through gemc_common).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace gemc {

/// Feature names in LLVM's spelling ("avx512f", "neon").
using CpuFeatureSet = std::set<std::string, std::less<>>;

/// The detectable features this CPU and operating system support (computed once).
const CpuFeatureSet &hostCpuFeatures();

/// Whether the runtime can detect `name` on this architecture.
bool isDetectableCpuFeature(std::string_view name);

/// Why code compiled for `features` ("+a,+b,-c") cannot run on `host`: the first required
/// feature that `host` lacks ("needs avx512f, and this CPU lacks it") or that the runtime cannot
/// detect (an artifact must never run on faith); "" when it can run.
std::string whyCpuCannotRun(std::string_view features, const CpuFeatureSet &host);

} // namespace gemc
