//===- ArtifactWriter.cpp - Writes a gemc artifact -------------------------===//
//
// Layout (runtime/ArtifactFormat.h): header, code, tokenizer and weights sections (each at a
// 4096-aligned offset, weights at WeightLayout's offsets inside it), then the manifest. The
// header, which holds the manifest's offset and checksum, is written last, over the placeholder.
//
//===----------------------------------------------------------------------===//

#include "compiler/artifact/ArtifactWriter.h"

#include "runtime/common/Error.h"
#include "runtime/ArtifactFormat.h"
#include "runtime/artifact_generated.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MathExtras.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace gemc {
namespace {

namespace fb = artifact;

/// Appends bytes to the file and keeps a running checksum of the current section. Positions
/// count from the artifact's first byte, `base` bytes into the file (after an executable's
/// runner program).
class SectionWriter {
public:
  SectionWriter(llvm::raw_fd_ostream &os, uint64_t base) : os_(os), base_(base) {}
  uint64_t position() const { return os_.tell() - base_; }
  void write(const void *data, uint64_t size) {
    os_.write(static_cast<const char *>(data), size);
    sum_.update(data, size);
  }
  void zeros(uint64_t count) {
    static const char kZeros[4096] = {};
    for (; count > 0; count -= std::min<uint64_t>(count, sizeof(kZeros)))
      write(kZeros, std::min<uint64_t>(count, sizeof(kZeros)));
  }
  void alignTo(uint64_t alignment) { zeros((alignment - position() % alignment) % alignment); }
  /// Starts a new section at an aligned offset; returns its offset.
  uint64_t begin() {
    alignTo(kSectionAlignment);
    sum_ = Checksum64();
    return position();
  }
  uint64_t checksum() const { return sum_.value(); }

private:
  llvm::raw_fd_ostream &os_;
  uint64_t base_;
  Checksum64 sum_;
};

/// storeRows spread over the hardware threads (in whole tiles of `tileRows`, if not 0):
/// quantizing, not I/O, is the slow part of writing a quantized weight.
void storeRowsInParallel(DType source, const uint8_t *data, int64_t rows, int64_t columns,
                         WeightFormat format, int64_t tileRows, uint8_t *out) {
  int64_t unit = std::max<int64_t>(tileRows, 1), units = rows / unit;
  int64_t threads = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, units);
  uint64_t sourceRow = uint64_t(columns) * dtypeSize(source), storedRow = rowBytes(format, columns);
  auto share = [&](int64_t worker) {
    int64_t begin = units * worker / threads * unit, end = units * (worker + 1) / threads * unit;
    storeRows(source, data + uint64_t(begin) * sourceRow, end - begin, columns, format,
              out + uint64_t(begin) * storedRow, tileRows);
  };
  std::vector<std::thread> workers;
  for (int64_t worker = 1; worker < threads; ++worker)
    workers.emplace_back(share, worker);
  share(0);
  for (std::thread &worker : workers)
    worker.join();
}

/// Writes one weight in its format, in pieces of whole rows, each piece of the checkpoint
/// checked for NaN and infinity and released once written: memory stays flat however large
/// the tensor, and the checkpoint is read once.
llvm::Error writeWeight(SectionWriter &out, const TensorInfo &tensor,
                        const WeightLayout::Entry &entry) {
  constexpr uint64_t kPiece = uint64_t(64) << 20;
  int64_t columns = tensor.shape.empty() ? 1 : tensor.shape.back();
  int64_t rows = columns ? tensor.numElements() / columns : 0;
  uint64_t sourceRow = uint64_t(columns) * dtypeSize(tensor.dtype);
  uint64_t storedRow = rowBytes(entry.format, columns);
  // Pieces of whole tiles (the verifier checked that tiles divide the rows).
  int64_t unit = std::max<int64_t>(entry.tileRows, 1);
  int64_t piece =
      int64_t(std::max<uint64_t>(1, kPiece / std::max(sourceRow, storedRow) / unit)) * unit;
  bool copy = storesAsIs(tensor.dtype, entry.format);
  std::vector<uint8_t> stored(copy ? 0 : size_t(std::min(piece, rows)) * storedRow);
  for (int64_t first = 0; first < rows; first += piece) {
    int64_t count = std::min(piece, rows - first);
    const uint8_t *source = tensor.data + uint64_t(first) * sourceRow;
    if (llvm::Error error = checkFinite(tensor, first * columns, count * columns))
      return error;
    if (copy) {
      out.write(source, uint64_t(count) * sourceRow);
    } else {
      storeRowsInParallel(tensor.dtype, source, count, columns, entry.format, entry.tileRows,
                          stored.data());
      out.write(stored.data(), uint64_t(count) * storedRow);
    }
    releaseMappedPages(tensor, uint64_t(first) * sourceRow, uint64_t(count) * sourceRow);
  }
  return llvm::Error::success();
}

flatbuffers::Offset<fb::Model> buildModel(flatbuffers::FlatBufferBuilder &fbb,
                                          const Checkpoint &ckpt) {
  const TextConfig &c = ckpt.config();
  return fb::CreateModel(fbb, fbb.CreateString(ckpt.dir()), c.vocabSize, c.hiddenSize,
                         c.numLayers, c.maxPositionEmbeddings, c.bosTokenId, c.eosTokenId,
                         c.enableMoeBlock ? c.numExperts : 0,
                         c.enableMoeBlock ? c.topKExperts : 0);
}

flatbuffers::Offset<fb::Generation> buildGeneration(flatbuffers::FlatBufferBuilder &fbb,
                                                    const GenerationConfig &g) {
  std::vector<int32_t> stops(g.stopIds.begin(), g.stopIds.end());
  return fb::CreateGeneration(fbb, fbb.CreateVector(stops), g.doSample, float(g.temperature),
                              int32_t(g.topK), float(g.topP), float(g.minP),
                              float(g.repetitionPenalty));
}

flatbuffers::Offset<fb::MemoryPlan> buildPlan(flatbuffers::FlatBufferBuilder &fbb,
                                              const MemoryPlan &plan) {
  std::vector<flatbuffers::Offset<fb::KvLayer>> layers;
  for (const KvCachePlan::Layer &l : plan.kvCache.layers)
    layers.push_back(fb::CreateKvLayer(fbb, l.layer, l.kvHeads, l.headDim, l.ringCapacity,
                                       l.fixedOffset, l.perContextOffset));
  return fb::CreateMemoryPlan(fbb, plan.maxChunk, plan.kvCache.fixedBytes,
                              plan.kvCache.perContextBytes, fbb.CreateVector(layers),
                              plan.scratchBytes);
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Dispatch>>>
buildDispatches(flatbuffers::FlatBufferBuilder &fbb, const ArtifactContents &in) {
  std::vector<flatbuffers::Offset<fb::Dispatch>> dispatches;
  for (const auto &[i, d] : llvm::enumerate(in.plan.dispatches)) {
    std::vector<fb::Binding> bindings;
    for (const BindingRange &b : d.bindings)
      bindings.emplace_back(fb::BufferKind(b.buffer), b.offset, b.perContextOffset, b.bytes,
                            b.perContextBytes);
    GpuKernelCode gpu = in.gpuKernels.empty() ? GpuKernelCode() : in.gpuKernels[i];
    dispatches.push_back(fb::CreateDispatch(
        fbb, fbb.CreateString(d.name), fbb.CreateString(kernelSymbol(i, d.name)),
        fbb.CreateVectorOfStructs(bindings), gpu.offset, gpu.size, gpu.workgroupsPerToken,
        gpu.workgroupsFixed));
  }
  return fbb.CreateVector(dispatches);
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Tensor>>>
buildTensors(flatbuffers::FlatBufferBuilder &fbb, const ArtifactContents &in) {
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const WeightLayout::Entry &entry : in.plan.weights.entries) {
    const TensorInfo *info = in.checkpoint.find(entry.name);
    tensors.push_back(
        fb::CreateTensor(fbb, fbb.CreateString(entry.name),
                         fbb.CreateString(std::string(weightFormatName(entry.format))),
                         fbb.CreateVector(info->shape), entry.offset, entry.bytes, entry.tileRows));
  }
  return fbb.CreateVector(tensors);
}

} // namespace

llvm::Expected<WrittenArtifact> writeArtifact(const std::string &path,
                                              const ArtifactContents &in) {
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!temp)
    return makeError("{}: cannot create a temporary file: {}", path,
                     llvm::toString(temp.takeError()));
  llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
  // Removes the unfinished file. The stream must not flush into it later, nor be destroyed
  // holding an error (that aborts the process).
  auto discard = [&](llvm::Error error) {
    os.flush();
    os.clear_error();
    llvm::consumeError(temp->discard());
    return error;
  };
  os.write(in.runner.data(), in.runner.size());
  uint64_t base = llvm::alignTo(in.runner.size(), kSectionAlignment);
  os.write_zeros(base - in.runner.size());
  SectionWriter out(os, base);
  ArtifactHeader header{};
  out.write(&header, sizeof(header)); // placeholder

  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Section>> sections;
  uint64_t codeOffset = out.begin();
  out.write(in.code.data(), in.code.size());
  sections.push_back(fb::CreateSection(fbb,
                                       fbb.CreateString(in.gpuKernels.empty() ? "code" : "spirv"),
                                       codeOffset, in.code.size(), out.checksum()));
  if (!in.tokenizer.empty()) {
    uint64_t tokenizerOffset = out.begin();
    out.write(in.tokenizer.data(), in.tokenizer.size());
    sections.push_back(fb::CreateSection(fbb, fbb.CreateString("tokenizer"), tokenizerOffset,
                                         in.tokenizer.size(), out.checksum()));
  }
  const WeightLayout &weights = in.plan.weights;
  if (!in.syntheticSeed) {
    uint64_t weightsOffset = out.begin();
    for (const WeightLayout::Entry &entry : weights.entries) {
      out.zeros(weightsOffset + entry.offset - out.position());
      if (llvm::Error error = writeWeight(out, *in.checkpoint.find(entry.name), entry))
        return discard(std::move(error));
    }
    out.zeros(weightsOffset + weights.totalBytes - out.position());
    sections.push_back(fb::CreateSection(fbb, fbb.CreateString("weights"), weightsOffset,
                                         weights.totalBytes, out.checksum()));
  }
  auto synthetic = in.syntheticSeed ? fb::CreateSyntheticWeights(fbb, *in.syntheticSeed,
                                                                 weights.totalBytes)
                                    : flatbuffers::Offset<fb::SyntheticWeights>();

  const CpuTarget &t = in.target;
  auto target = fb::CreateTarget(fbb, fbb.CreateString(t.name), fbb.CreateString(t.triple),
                                 fbb.CreateString(t.tuneCpu), fbb.CreateString(t.features),
                                 int32_t(t.vectorWidth));
  auto manifest = fb::CreateManifest(fbb, fbb.CreateString("gemc 0.1"),
                                     buildModel(fbb, in.checkpoint), target,
                                     buildPlan(fbb, in.plan), fbb.CreateVector(sections),
                                     buildTensors(fbb, in), buildGeneration(fbb, in.generation),
                                     fbb.CreateString(in.chatTemplate),
                                     buildDispatches(fbb, in), synthetic);
  fb::FinishManifestBuffer(fbb, manifest);
  out.alignTo(8);
  std::memcpy(header.magic, kArtifactMagic, sizeof(kArtifactMagic));
  header.formatVersion = kFormatVersion;
  header.manifestOffset = out.position();
  header.manifestSize = fbb.GetSize();
  header.manifestChecksum = checksum64(fbb.GetBufferPointer(), fbb.GetSize());
  out.write(fbb.GetBufferPointer(), fbb.GetSize());
  WrittenArtifact written{header.manifestChecksum, out.position()};
  if (!in.runner.empty()) {
    ExecutableTrailer trailer{};
    std::memcpy(trailer.magic, kExecutableMagic, sizeof(kExecutableMagic));
    trailer.artifactOffset = base;
    trailer.artifactSize = written.size;
    os.write(reinterpret_cast<const char *>(&trailer), sizeof(trailer));
    llvm::sys::fs::setPermissions(temp->TmpName, llvm::sys::fs::all_read |
                                                     llvm::sys::fs::all_exe |
                                                     llvm::sys::fs::owner_write);
  }
  os.seek(base);
  os.write(reinterpret_cast<const char *>(&header), sizeof(header));
  os.flush();
  if (os.has_error()) {
    std::string reason = os.error().message();
    return discard(makeError("{}: write failed: {}", path, reason));
  }
  if (llvm::Error error = temp->keep(path))
    return makeError("{}: cannot rename the finished file into place: {}", path,
                     llvm::toString(std::move(error)));
  return written;
}

} // namespace gemc
