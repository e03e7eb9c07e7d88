//===- ArtifactFuzzer.cpp - Fuzzes artifact verification and model opening -===//
//
// The input is an artifact. Mutations that only break a checksum stop at the first check, so
// the harness reseals the header's manifest checksum: mutated manifests then reach the
// FlatBuffers verifier, the field checks and the C API that reads them (open, a session, a
// prefill and a decode with kernels that do nothing). The seed is a FakeArtifact
// written at build time (WriteArtifactSeed.cpp).

#include "gemc/runtime.h"
#include "runtime/Artifact.h"
#include "runtime/ArtifactFormat.h"

#include <cstring>
#include <vector>

namespace {
void doNothing(void *const *, const int64_t *, int64_t, int64_t) {}

/// A kernel table as long as the dispatch table of any artifact that verifies.
const std::vector<gemc::KernelFunction> &doNothingKernels(const std::vector<uint8_t> &bytes) {
  static std::vector<gemc::KernelFunction> kernels;
  std::string error;
  if (auto view = gemc::MappedArtifact::view(bytes.data(), bytes.size(), "fuzzed", error))
    kernels.assign(view->manifest().dispatches()->size(), &doNothing);
  return kernels;
}

void resealManifest(std::vector<uint8_t> &bytes) {
  gemc::ArtifactHeader header;
  if (bytes.size() < sizeof(header))
    return;
  std::memcpy(&header, bytes.data(), sizeof(header));
  if (header.manifestOffset > bytes.size() ||
      header.manifestSize > bytes.size() - header.manifestOffset)
    return;
  header.manifestChecksum =
      gemc::checksum64(bytes.data() + header.manifestOffset, header.manifestSize);
  std::memcpy(bytes.data(), &header, sizeof(header));
}

/// Opens a session and runs two calls when the plan's buffers are small enough for a fuzzer.
void exercise(gemc_model *model) {
  const gemc::artifact::MemoryPlan &plan = *gemc::artifactOf(model).manifest().plan();
  int64_t context = std::min<int64_t>(gemc_model_max_context(model), 8);
  uint64_t bytes = gemc_model_kv_bytes(model, context) + plan.scratch_bytes() +
                   uint64_t(plan.max_chunk()) * uint64_t(gemc_model_vocab_size(model)) * 4;
  gemc_session *session = nullptr;
  if (bytes > (64u << 20) || gemc_session_create(model, context, 2, &session) != GEMC_OK)
    return;
  int32_t tokens[] = {0, int32_t(gemc_model_vocab_size(model) - 1)};
  gemc_session_prefill(session, tokens, 2, nullptr);
  gemc_session_decode(session, 0, nullptr);
  gemc_session_free(session);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  resealManifest(bytes);
  gemc_model *model = nullptr;
  if (gemc_model_open_linked(bytes.data(), bytes.size(), doNothingKernels(bytes).data(),
                             &model) != GEMC_OK)
    return 0;
  exercise(model);
  gemc_model_free(model);
  return 0;
}
