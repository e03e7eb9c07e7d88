//===- FakeArtifact.h - Small hand-built artifacts for runtime tests ------===//
//
// The runtime's tests (and the artifact fuzzer's seed) need artifacts without a compiler: this
// builds one in memory with the real header, manifest and checksums, tiny sections and a
// manifest whose fields the tests choose. Its code section is not a shared object: tests open
// it with gemc_model_open_linked and pass their own kernels, one per dispatch of
// kFakeDispatches: "store" (token ids, KV cache), "partial" (KV cache, scratch) and "combine"
// (scratch, logits).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gemc::test {

struct FakeArtifactSpec {
  int64_t vocab = 16, maxContext = 64, maxChunk = 4, bos = 2, eos = 1;
  uint64_t kvFixedBytes = 0, kvPerContextBytes = sizeof(int32_t), scratchBytes = 256;
  std::string targetName = "host", triple, features; // triple "" = this machine's architecture
  uint64_t weightsBytes = 64;
  uint64_t tensorOffset = 0, tensorBytes = 64; // the one tensor "w", within the weights
  std::vector<int64_t> tensorShape;             // {} = {tensorBytes} f32 values
  std::string tensorFormat = "f32";
  int32_t tensorTileRows = 0;
  bool synthetic = false; // no weights section: synthetic_weights (seed 5, weightsBytes)
  std::vector<int32_t> stopIds = {1};
  uint32_t formatVersion = 0; // 0 = the runtime's
  uint64_t scratchBindingBytes = 0; // what "partial" and "combine" bind; 0 = scratchBytes
};

constexpr int kFakeDispatches = 3;

/// The artifact's bytes; its sections are 4096-aligned within them.
std::vector<uint8_t> buildFakeArtifact(const FakeArtifactSpec &spec);

} // namespace gemc::test
