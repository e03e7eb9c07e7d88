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
  if (!report->outputs.empty())
    llvm::errs() << fmt::format(
        "wrote {}: target {} ({}, {} f32 lanes), code {:.1f} KiB, weights {:.1f} MiB, {:.2f} s, "
        "peak memory {:.0f} MiB\n",
        report->outputs, report->target.name, report->target.tuneCpu, report->target.vectorWidth,
        double(report->codeBytes) / 1024.0, double(report->weightBytes) / (1024.0 * 1024.0),
        report->seconds, peakMemoryMiB());
  return llvm::Error::success();
}

} // namespace gemc
