//===- BenchCommand.cpp - gemc bench ----------------------------------------===//
//
// Measures prefill and decode speed of an artifact, the weight bytes one decode step reads, and,
// in the same run, the machine's memory bandwidth with a STREAM-like read on the same number of
// threads (Measure.h), so that decode speed can be read as a fraction of the ceiling.
//
//===----------------------------------------------------------------------===//

#include "runtime/common/Error.h"
#include "gemc/runtime.h"
#include "runtime/Artifact.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"
#include "tools/gemc/Measure.h"

#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

namespace gemc {
namespace {

llvm::Error runtimeError() { return makeError("{}", gemc_last_error()); }

} // namespace

llvm::Error runBench(const BenchOptions &options) {
  OpenSession rt;
  if (gemc_model_open_device(options.artifact.c_str(), options.device, &rt.model) != GEMC_OK)
    return runtimeError();
  int64_t context = options.prompt + options.generate;
  if (gemc_session_create(rt.model, context, int32_t(options.threads), &rt.session) != GEMC_OK)
    return runtimeError();
  llvm::Expected<Speed> speed = measureSpeed(rt.session, options.prompt, options.generate);
  if (!speed)
    return speed.takeError();

  const artifact::Manifest &manifest = artifactOf(rt.model).manifest(); // verified once, at open
  uint64_t bytesPerToken = weightBytesPerToken(manifest);
  int64_t threads = gemc_session_threads(rt.session);
  // GPU artifacts: the host's bandwidth says nothing about the device's, and the device's is
  // not measured yet (0 in the table).
  std::string device = gemc_model_device_name(rt.model);
  double bandwidth = device.empty() ? measureReadBandwidth(threads) : 0.0;
  double prefillRate = speed->prefillTokensPerSecond;
  double decodeRate = speed->decodeTokensPerSecond;
  double achieved = double(bytesPerToken) * decodeRate / 1e9;
  double fraction = bandwidth > 0 ? achieved / bandwidth : 0.0;

  std::string weights = manifest.synthetic_weights()
                            ? fmt::format("synthetic (seed {})", manifest.synthetic_weights()->seed())
                            : "checkpoint";
  std::string target = manifest.target()->name()->str();
  if (!device.empty())
    target += " on " + device;
  llvm::raw_ostream &os = llvm::outs();
  if (options.format == "csv") {
    os << "artifact,target,weights,threads,prompt,prefill_tok_s,generate,decode_tok_s,"
          "weight_bytes_per_token,achieved_gb_s,read_bandwidth_gb_s,bandwidth_fraction\n";
    os << fmt::format("{},{},{},{},{},{:.2f},{},{:.3f},{},{:.2f},{:.2f},{:.3f}\n",
                      options.artifact, target, weights, threads, options.prompt, prefillRate,
                      options.generate, decodeRate, bytesPerToken, achieved, bandwidth, fraction);
  } else if (options.format == "json") {
    os << fmt::format(
        "{{\"artifact\": \"{}\", \"target\": \"{}\", \"weights\": \"{}\", \"threads\": {}, "
        "\"prompt\": {}, "
        "\"prefill_tok_s\": {:.2f}, \"generate\": {}, \"decode_tok_s\": {:.3f}, "
        "\"weight_bytes_per_token\": {}, \"achieved_gb_s\": {:.2f}, \"read_bandwidth_gb_s\": "
        "{:.2f}, \"bandwidth_fraction\": {:.3f}}}\n",
        options.artifact, target, weights, threads, options.prompt, prefillRate, options.generate,
        decodeRate, bytesPerToken, achieved, bandwidth, fraction);
  } else {
    os << fmt::format("| {} ({}, {} threads) | value |\n|---|---|\n", options.artifact, target,
                      threads);
    os << fmt::format("| weights | {} |\n", weights);
    os << fmt::format("| prefill {} tokens | {:.2f} tok/s |\n", options.prompt, prefillRate);
    os << fmt::format("| decode {} tokens | {:.3f} tok/s |\n", options.generate, decodeRate);
    os << fmt::format("| weights read per decode token | {:.3f} GB |\n", bytesPerToken / 1e9);
    os << fmt::format("| achieved decode bandwidth | {:.2f} GB/s |\n", achieved);
    if (bandwidth > 0) {
      os << fmt::format("| measured read bandwidth ({} threads) | {:.2f} GB/s |\n", threads,
                        bandwidth);
      os << fmt::format("| decode / measured bandwidth | {:.0f}% |\n", 100 * fraction);
    }
  }
  return llvm::Error::success();
}

} // namespace gemc
