//===- FakeArtifact.cpp - Small hand-built artifacts for runtime tests ----===//

#include "test/unit/runtime/FakeArtifact.h"

#include "runtime/ArtifactFormat.h"
#include "runtime/artifact_generated.h"

#include <cstring>

namespace gemc::test {
namespace fb = artifact;

namespace {
std::string hostTriple() {
#if defined(__aarch64__)
  return "aarch64-unknown-linux-gnu";
#else
  return "x86_64-unknown-linux-gnu";
#endif
}

/// Appends `bytes` at the next 4096-aligned offset of `file`; returns that offset.
uint64_t appendSection(std::vector<uint8_t> &file, const std::vector<uint8_t> &bytes) {
  uint64_t offset = (file.size() + kSectionAlignment - 1) / kSectionAlignment * kSectionAlignment;
  file.resize(offset);
  file.insert(file.end(), bytes.begin(), bytes.end());
  return offset;
}
} // namespace

std::vector<uint8_t> buildFakeArtifact(const FakeArtifactSpec &spec) {
  std::vector<uint8_t> file(sizeof(ArtifactHeader));
  std::vector<uint8_t> code(32, 0xC3), weights(spec.synthetic ? 0 : spec.weightsBytes);
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = uint8_t(i * 7);
  uint64_t codeOffset = appendSection(file, code);
  uint64_t weightsOffset = spec.synthetic ? 0 : appendSection(file, weights);

  flatbuffers::FlatBufferBuilder fbb;
  auto section = [&](const char *name, uint64_t offset, const std::vector<uint8_t> &bytes) {
    return fb::CreateSection(fbb, fbb.CreateString(name), offset, bytes.size(),
                             checksum64(bytes.data(), bytes.size()));
  };
  std::vector<flatbuffers::Offset<fb::Section>> sections = {section("code", codeOffset, code)};
  if (!spec.synthetic)
    sections.push_back(section("weights", weightsOffset, weights));
  std::vector<int64_t> shape = spec.tensorShape;
  if (shape.empty())
    shape = {int64_t(spec.tensorBytes)};
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors = {
      fb::CreateTensor(fbb, fbb.CreateString("w"), fbb.CreateString(spec.tensorFormat),
                       fbb.CreateVector(shape), spec.tensorOffset, spec.tensorBytes,
                       spec.tensorTileRows)};
  auto model = fb::CreateModel(fbb, fbb.CreateString("fake"), spec.vocab, 8, 1, spec.maxContext,
                               spec.bos, spec.eos, 0, 0);
  auto target = fb::CreateTarget(fbb, fbb.CreateString(spec.targetName),
                                 fbb.CreateString(spec.triple.empty() ? hostTriple() : spec.triple),
                                 fbb.CreateString("generic"), fbb.CreateString(spec.features), 4);
  auto plan = fb::CreateMemoryPlan(fbb, spec.maxChunk, spec.kvFixedBytes, spec.kvPerContextBytes,
                                   0, spec.scratchBytes);
  auto generation = fb::CreateGeneration(fbb, fbb.CreateVector(spec.stopIds));
  uint64_t scratch = spec.scratchBindingBytes ? spec.scratchBindingBytes : spec.scratchBytes;
  fb::Binding ids(fb::BufferKind_TokenIds, 0, 0, 0, 0), logits(fb::BufferKind_Logits, 0, 0, 0, 0),
      kv(fb::BufferKind_KvCache, 0, 0, 0, sizeof(int32_t)),
      partials(fb::BufferKind_Scratch, 0, 0, scratch, 0);
  auto dispatch = [&](const char *name, std::vector<fb::Binding> bindings) {
    return fb::CreateDispatch(fbb, fbb.CreateString(name),
                              fbb.CreateString(std::string("fake_") + name),
                              fbb.CreateVectorOfStructs(bindings));
  };
  std::vector<flatbuffers::Offset<fb::Dispatch>> dispatches = {
      dispatch("store", {ids, kv}), dispatch("partial", {kv, partials}),
      dispatch("combine", {partials, logits})};
  auto manifest = fb::CreateManifest(fbb, fbb.CreateString("fake"), model, target, plan,
                                     fbb.CreateVector(sections), fbb.CreateVector(tensors),
                                     generation, fbb.CreateString("gemma4"),
                                     fbb.CreateVector(dispatches),
                                     spec.synthetic
                                         ? fb::CreateSyntheticWeights(fbb, 5, spec.weightsBytes)
                                         : flatbuffers::Offset<fb::SyntheticWeights>());
  fb::FinishManifestBuffer(fbb, manifest);

  ArtifactHeader header{};
  std::memcpy(header.magic, kArtifactMagic, sizeof(kArtifactMagic));
  header.formatVersion = spec.formatVersion ? spec.formatVersion : kFormatVersion;
  header.manifestOffset = (file.size() + 7) / 8 * 8;
  header.manifestSize = fbb.GetSize();
  header.manifestChecksum = checksum64(fbb.GetBufferPointer(), fbb.GetSize());
  file.resize(header.manifestOffset);
  file.insert(file.end(), fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  std::memcpy(file.data(), &header, sizeof(header));
  return file;
}

} // namespace gemc::test
