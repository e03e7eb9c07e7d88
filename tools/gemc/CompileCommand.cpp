//===- CompileCommand.cpp - gemc compile ------------------------------------===//
//
// The flags become CompileOptions; compiler/driver does the work; this prints the summary.
//
//===----------------------------------------------------------------------===//

#include "tools/gemc/Commands.h"

#include <fmt/format.h>
#include <llvm/Support/raw_ostream.h>

#include <sys/resource.h>

namespace gemc {
namespace {

double peakMemoryMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

} // namespace

llvm::Error runCompile(const CompileOptions &options) {
  llvm::Expected<CompileReport> report = compileCheckpoint(options);
  if (!report)
    return report.takeError();
  const CpuTarget &target = report->target;
  std::string targetText = target.vectorWidth
                               ? fmt::format("{} ({}, {} f32 lanes)", target.name,
                                             target.tuneCpu, target.vectorWidth)
                               : fmt::format("{} (SPIR-V)", target.name);
  if (!report->outputs.empty())
    llvm::errs() << fmt::format(
        "wrote {}: target {}, code {:.1f} KiB, weights {:.1f} MiB, {:.2f} s, peak memory "
        "{:.0f} MiB\n",
        report->outputs, targetText, double(report->codeBytes) / 1024.0,
        double(report->weightBytes) / (1024.0 * 1024.0), report->seconds, peakMemoryMiB());
  return llvm::Error::success();
}

} // namespace gemc
