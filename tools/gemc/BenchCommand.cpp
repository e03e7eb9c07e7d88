//===- BenchCommand.cpp - gemc bench ----------------------------------------===//
//
// Measures prefill and decode speed of an artifact through the runtime C API, the weight bytes
// one decode step reads, and, in the same run, the machine's memory bandwidth with a STREAM-like
// read on the same number of threads, so that decode speed can be read as a fraction of the
// ceiling. Nothing here is asserted: timings are reported, never tested.
//
//===----------------------------------------------------------------------===//

#include "frontends/Error.h"
#include "gemc/runtime.h"
#include "runtime/Artifact.h"
#include "runtime/WorkerPool.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"

#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

namespace gemc {
namespace {

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

/// Bytes of weights one decode step reads: every tensor whole, except one row of the PLE table
/// and top_k of num_experts experts.
uint64_t weightBytesPerToken(const artifact::Manifest &m) {
  double bytes = 0;
  int64_t experts = m.model()->num_experts(), topK = m.model()->top_k_experts();
  for (const artifact::Tensor *t : *m.tensors()) {
    std::string_view name = t->name()->string_view();
    double size = double(t->size());
    if (name.find("embed_tokens_per_layer") != std::string_view::npos)
      size /= double(t->shape()->Get(0));
    else if (name.find(".experts.") != std::string_view::npos && experts > 0)
      size *= double(topK) / double(experts);
    bytes += size;
  }
  return uint64_t(bytes);
}

/// Best of three parallel passes summing a buffer much larger than the caches, in GB/s.
double measureReadBandwidth(int64_t threads) {
  constexpr size_t kBytes = size_t(1) << 30;
  typedef float Vector __attribute__((vector_size(16)));
  std::unique_ptr<Vector[]> data(new Vector[kBytes / sizeof(Vector)]);
  std::memset(data.get(), 1, kBytes);
  WorkerPool pool(threads);
  std::vector<float> sinks(size_t(pool.size()));
  double best = 0;
  for (int pass = 0; pass < 3; ++pass) {
    auto start = std::chrono::steady_clock::now();
    auto readShare = [&](int64_t worker) {
      size_t count = kBytes / sizeof(Vector), begin = count * worker / pool.size(),
             end = count * (worker + 1) / pool.size();
      Vector a = {}, b = {}, c = {}, d = {};
      for (size_t i = begin; i + 4 <= end; i += 4) {
        a += data[i];
        b += data[i + 1];
        c += data[i + 2];
        d += data[i + 3];
      }
      Vector s = a + b + c + d;
      sinks[size_t(worker)] = s[0] + s[1] + s[2] + s[3];
    };
    pool.run(readShare);
    best = std::max(best, double(kBytes) / seconds(start) / 1e9);
  }
  return best;
}

llvm::Error runtimeError() { return makeError("{}", gemc_last_error()); }

} // namespace

llvm::Error runBench(const BenchOptions &options) {
  OpenSession rt;
  if (gemc_model_open(options.artifact.c_str(), &rt.model) != GEMC_OK)
    return runtimeError();
  int64_t context = options.prompt + options.generate;
  if (gemc_session_create(rt.model, context, int32_t(options.threads), &rt.session) != GEMC_OK)
    return runtimeError();
  int64_t vocab = gemc_model_vocab_size(rt.model);
  std::vector<int32_t> prompt(size_t(options.prompt));
  for (size_t i = 0; i < prompt.size(); ++i)
    prompt[i] = int32_t((i * 7919 + 2) % uint64_t(vocab));

  auto start = std::chrono::steady_clock::now();
  if (gemc_session_prefill(rt.session, prompt.data(), int64_t(prompt.size()), nullptr) != GEMC_OK)
    return runtimeError();
  double prefillSeconds = seconds(start);
  start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < options.generate; ++i) {
    const float *logits = gemc_session_logits(rt.session);
    int32_t next = int32_t(std::max_element(logits, logits + vocab) - logits);
    if (gemc_session_decode(rt.session, next, nullptr) != GEMC_OK)
      return runtimeError();
  }
  double decodeSeconds = seconds(start);

  const artifact::Manifest &manifest = artifactOf(rt.model).manifest(); // verified once, at open
  uint64_t bytesPerToken = weightBytesPerToken(manifest);
  int64_t threads = gemc_session_threads(rt.session);
  double bandwidth = measureReadBandwidth(threads);
  double prefillRate = double(options.prompt) / prefillSeconds;
  double decodeRate = double(options.generate) / decodeSeconds;
  double achieved = double(bytesPerToken) * decodeRate / 1e9;

  std::string target = manifest.target()->name()->str();
  llvm::raw_ostream &os = llvm::outs();
  if (options.format == "csv") {
    os << "artifact,target,threads,prompt,prefill_tok_s,generate,decode_tok_s,"
          "weight_bytes_per_token,achieved_gb_s,read_bandwidth_gb_s,bandwidth_fraction\n";
    os << fmt::format("{},{},{},{},{:.2f},{},{:.3f},{},{:.2f},{:.2f},{:.3f}\n", options.artifact,
                      target, threads, options.prompt, prefillRate, options.generate, decodeRate,
                      bytesPerToken, achieved, bandwidth, achieved / bandwidth);
  } else if (options.format == "json") {
    os << fmt::format(
        "{{\"artifact\": \"{}\", \"target\": \"{}\", \"threads\": {}, \"prompt\": {}, "
        "\"prefill_tok_s\": {:.2f}, \"generate\": {}, \"decode_tok_s\": {:.3f}, "
        "\"weight_bytes_per_token\": {}, \"achieved_gb_s\": {:.2f}, \"read_bandwidth_gb_s\": "
        "{:.2f}, \"bandwidth_fraction\": {:.3f}}}\n",
        options.artifact, target, threads, options.prompt, prefillRate, options.generate,
        decodeRate, bytesPerToken, achieved, bandwidth, achieved / bandwidth);
  } else {
    os << fmt::format("| {} ({}, {} threads) | value |\n|---|---|\n", options.artifact, target,
                      threads);
    os << fmt::format("| prefill {} tokens | {:.2f} tok/s |\n", options.prompt, prefillRate);
    os << fmt::format("| decode {} tokens | {:.3f} tok/s |\n", options.generate, decodeRate);
    os << fmt::format("| weights read per decode token | {:.3f} GB |\n", bytesPerToken / 1e9);
    os << fmt::format("| achieved decode bandwidth | {:.2f} GB/s |\n", achieved);
    os << fmt::format("| measured read bandwidth ({} threads) | {:.2f} GB/s |\n", threads,
                      bandwidth);
    os << fmt::format("| decode / measured bandwidth | {:.0f}% |\n", 100 * achieved / bandwidth);
  }
  return llvm::Error::success();
}

} // namespace gemc
