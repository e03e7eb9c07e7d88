//===- Artifact.cpp - A mapped and verified gemc artifact -----------------===//

#include "runtime/Artifact.h"

#include "runtime/ArtifactFormat.h"
#include "runtime/SyntheticWeights.h"
#include "runtime/common/CpuFeatures.h"
#include "runtime/common/Format.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace gemc {
namespace {

bool fits(uint64_t offset, uint64_t size, uint64_t total) {
  return offset <= total && size <= total - offset;
}

/// The first byte of data[0, size) outside every [offset, offset + size) range that is not zero,
/// or size. The checksums cover the header's fields, the manifest and the sections; everything
/// else (padding, reserved fields) must be zero, so no damage anywhere goes unnoticed.
uint64_t firstNonZeroOutside(const uint8_t *data, uint64_t size,
                             std::vector<std::pair<uint64_t, uint64_t>> ranges) {
  std::sort(ranges.begin(), ranges.end());
  uint64_t at = 0;
  ranges.push_back({size, 0});
  for (auto [offset, length] : ranges) {
    for (; at < offset; ++at)
      if (data[at])
        return at;
    at = std::max(at, offset + length);
  }
  return size;
}

std::string_view hostArchitecture() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

/// The manifest's numbers that the runtime sizes buffers and checks ids with, checked against
/// each other and the weights section: a manifest that passes its checksum but was written
/// wrong (or on purpose) must not make the runtime allocate absurd sizes or index out of bounds.
/// Why a dispatch's binding does not lie inside its buffer, or "".
std::string checkBinding(const artifact::Binding &b, const artifact::MemoryPlan &plan,
                         uint64_t weightsSize) {
  bool perContext = b.per_context_offset() || b.per_context_bytes();
  switch (b.buffer()) {
  case artifact::BufferKind_Weights:
    return !perContext && fits(b.offset(), b.bytes(), weightsSize)
               ? ""
               : "lies outside the weights section";
  case artifact::BufferKind_KvCache:
    return fits(b.offset(), b.bytes(), plan.kv_fixed_bytes()) &&
                   fits(b.per_context_offset(), b.per_context_bytes(),
                        plan.kv_per_context_bytes())
               ? ""
               : "lies outside the KV cache";
  case artifact::BufferKind_Scratch:
    return !perContext && fits(b.offset(), b.bytes(), plan.scratch_bytes())
               ? ""
               : "lies outside the scratch buffer";
  case artifact::BufferKind_TokenIds:
  case artifact::BufferKind_Logits:
    return !perContext && !b.offset() && !b.bytes() ? "" : "must bind the whole buffer";
  }
  return "names an unknown buffer";
}

/// `spirvSize`: a GPU artifact's SPIR-V section, which every kernel's module must lie in.
std::string checkDispatches(const artifact::Manifest &m, uint64_t weightsSize,
                            uint64_t spirvSize) {
  if (!m.dispatches() || m.dispatches()->size() == 0)
    return "manifest has no dispatches";
  for (unsigned i = 0; i < m.dispatches()->size(); ++i) {
    const artifact::Dispatch &d = *m.dispatches()->Get(i);
    if (!d.kernel() || d.kernel()->size() == 0 || !d.bindings())
      return formatMessage("manifest dispatch %u lacks its kernel or bindings", i);
    // The FlatBuffers verifier checks a vector's length field, not the 8-byte alignment of the
    // structs after it.
    if (reinterpret_cast<uintptr_t>(d.bindings()->Data()) % alignof(artifact::Binding))
      return formatMessage("manifest dispatch %u: its bindings are misaligned", i);
    if (spirvSize && (!fits(d.code_offset(), d.code_size(), spirvSize) || d.code_size() == 0 ||
                      d.code_offset() % 4 || d.code_size() % 4 || d.workgroups_per_token() < 0 ||
                      d.workgroups_fixed() < 0 ||
                      d.workgroups_per_token() > (1 << 24) || d.workgroups_fixed() > (1ll << 31)))
      return formatMessage("manifest dispatch %u (%s): its SPIR-V module or grid is out of range", i,
                    d.kernel()->c_str());
    for (unsigned j = 0; j < d.bindings()->size(); ++j)
      if (std::string why = checkBinding(*d.bindings()->Get(j), *m.plan(), weightsSize);
          !why.empty())
        return formatMessage("manifest dispatch %u (%s) binding %u %s", i, d.kernel()->c_str(), j,
                      why.c_str());
  }
  return "";
}

/// The tensor as fillSyntheticRows writes it, or nullopt if the manifest's fields do not
/// describe whole rows of a known format.
std::optional<SyntheticTensor> syntheticTensor(const artifact::Tensor &t, uint8_t *weights) {
  std::optional<WeightFormat> format =
      t.dtype() ? parseWeightFormat(t.dtype()->string_view()) : std::nullopt;
  if (!format || !t.name() || !t.shape() || t.shape()->size() == 0)
    return std::nullopt;
  int64_t rows = 1, columns = t.shape()->Get(t.shape()->size() - 1);
  for (size_t d = 0; d + 1 < t.shape()->size(); ++d)
    if (t.shape()->Get(d) < 1 || __builtin_mul_overflow(rows, t.shape()->Get(d), &rows))
      return std::nullopt;
  uint64_t bytes = 0;
  if (columns < 1 || columns > (1ll << 40) ||
      __builtin_mul_overflow(uint64_t(rows), rowBytes(*format, columns), &bytes) ||
      bytes != t.size())
    return std::nullopt;
  return SyntheticTensor{t.name()->string_view(), *format, rows, columns,
                         t.shape()->size() == 1, weights + t.offset(), t.tile_rows()};
}

/// Why the tensor's tile_rows does not describe row tiles of it (WeightFormat.h), or "".
std::string checkTileRows(const artifact::Tensor &t) {
  int64_t tile = t.tile_rows();
  if (tile == 0)
    return "";
  std::optional<WeightFormat> stored =
      t.dtype() ? parseWeightFormat(t.dtype()->string_view()) : std::nullopt;
  size_t rank = t.shape() ? t.shape()->size() : 0;
  int64_t matrixRows = rank >= 2 ? t.shape()->Get(rank - 2) : 0;
  if (!stored || rank < 2 || !canTileRows(*stored, t.shape()->Get(rank - 1)) || tile < 2 ||
      tile % 2 || matrixRows < 1 || matrixRows % tile)
    return formatMessage("manifest tensor '%s': tile_rows %d does not divide its matrices into tiles "
                  "of q8_0 or q4_0 rows",
                  t.name() ? t.name()->c_str() : "?", t.tile_rows());
  return "";
}

std::string checkSyntheticTensor(const artifact::Tensor &t) {
  return syntheticTensor(t, nullptr) ? ""
                                     : "its format, shape and size do not describe whole rows, "
                                       "so synthetic weights cannot be generated for it";
}

std::string checkManifestFields(const artifact::Manifest &m, uint64_t weightsSize,
                                uint64_t spirvSize) {
  const artifact::Model &model = *m.model();
  const artifact::MemoryPlan &plan = *m.plan();
  auto outside = [](const char *field, long long value, long long low, long long high) {
    return formatMessage("manifest field '%s' is %lld, outside [%lld, %lld]", field, value, low, high);
  };
  // Positions are exact in f32 below 2^24, which the generated RoPE relies on.
  constexpr long long kMaxId = 1ll << 24, kMaxContext = 1ll << 24; // as config.json's bounds
  if (model.vocab_size() < 1 || model.vocab_size() > kMaxId)
    return outside("model.vocab_size", model.vocab_size(), 1, kMaxId);
  if (model.max_position_embeddings() < 1 || model.max_position_embeddings() > kMaxContext)
    return outside("model.max_position_embeddings", model.max_position_embeddings(), 1,
                   kMaxContext);
  for (auto [field, id] : {std::pair{"model.bos_token_id", model.bos_token_id()},
                           std::pair{"model.eos_token_id", model.eos_token_id()}})
    if (id < 0 || id >= model.vocab_size())
      return outside(field, id, 0, model.vocab_size() - 1);
  // Logits of one call: max_chunk x vocab floats, kept below 2^40 bytes.
  long long maxChunk = (1ll << 38) / model.vocab_size();
  if (plan.max_chunk() < 1 || plan.max_chunk() > maxChunk)
    return outside("plan.max_chunk", plan.max_chunk(), 1, maxChunk);
  // The KV cache at full context plus the scratch, without wrapping around.
  uint64_t kvMax = 0, total = 0;
  if (__builtin_mul_overflow(plan.kv_per_context_bytes(),
                             uint64_t(model.max_position_embeddings()), &kvMax) ||
      __builtin_add_overflow(kvMax, plan.kv_fixed_bytes(), &kvMax) ||
      __builtin_add_overflow(kvMax, plan.scratch_bytes(), &total) || total > (1ull << 60))
    return "manifest's memory plan needs more than 2^60 bytes";
  if (m.tensors())
    for (const artifact::Tensor *t : *m.tensors()) {
      if (!fits(t->offset(), t->size(), weightsSize))
        return formatMessage("manifest tensor '%s' [%llu, +%llu) lies outside the weights section "
                      "(%llu bytes)",
                      t->name() ? t->name()->c_str() : "?", (unsigned long long)t->offset(),
                      (unsigned long long)t->size(), (unsigned long long)weightsSize);
      if (std::string why = checkTileRows(*t); !why.empty())
        return why;
      if (std::string why = m.synthetic_weights() ? checkSyntheticTensor(*t) : ""; !why.empty())
        return formatMessage("manifest tensor '%s': %s", t->name() ? t->name()->c_str() : "?",
                      why.c_str());
    }
  if (m.generation() && m.generation()->stop_ids())
    for (int32_t id : *m.generation()->stop_ids())
      if (id < 0 || id >= model.vocab_size())
        return outside("generation.stop_ids", id, 0, model.vocab_size() - 1);
  return checkDispatches(m, weightsSize, spirvSize);
}

} // namespace

bool runsOnVulkan(const artifact::Target &target) {
  return target.name()->string_view() == "vulkan";
}

std::vector<BindingRange> bindingsOf(const artifact::Dispatch &dispatch) {
  std::vector<BindingRange> bindings;
  for (const artifact::Binding *b : *dispatch.bindings())
    bindings.push_back({BufferKind(b->buffer()), b->offset(), b->per_context_offset(),
                        b->bytes(), b->per_context_bytes()});
  return bindings;
}

uint64_t kvCacheBytes(const artifact::MemoryPlan &plan, int64_t contextLength) {
  return plan.kv_fixed_bytes() + plan.kv_per_context_bytes() * uint64_t(contextLength);
}

std::string checkTargetAgainstHost(const artifact::Target &target) {
  if (runsOnVulkan(target))
    return ""; // any CPU: the Vulkan driver is checked when the model opens
  std::string_view triple = target.triple()->string_view();
  std::string_view arch = triple.substr(0, triple.find('-'));
  if (arch != hostArchitecture())
    return formatMessage("it was compiled for %s (%.*s) but this CPU is %.*s", target.name()->c_str(),
                  int(arch.size()), arch.data(), int(hostArchitecture().size()),
                  hostArchitecture().data());
  if (std::string why = whyCpuCannotRun(target.features()->string_view(), hostCpuFeatures());
      !why.empty())
    return formatMessage("it was compiled for %s, which %s", target.name()->c_str(), why.c_str());
  return "";
}

MappedArtifact::~MappedArtifact() {
  if (library_)
    dlclose(library_);
  if (mapping_)
    munmap(mapping_, mappingSize_);
}

std::unique_ptr<MappedArtifact> MappedArtifact::open(const std::string &path,
                                                     std::string &error, bool checkTarget) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = formatMessage("%s: cannot open: %s", path.c_str(), std::strerror(errno));
    return nullptr;
  }
  struct stat info;
  std::unique_ptr<MappedArtifact> artifact(new MappedArtifact());
  artifact->path_ = path;
  bool readable = fstat(fd, &info) == 0;
  if (readable && S_ISDIR(info.st_mode)) {
    error = formatMessage("%s: is a directory, not an artifact (gemc compile DIR -o FILE.gemc "
                          "makes one from a checkpoint directory)",
                          path.c_str());
    ::close(fd);
    return nullptr;
  }
  if (!readable || info.st_size <= 0) {
    error = formatMessage("%s: empty or unreadable file", path.c_str());
    ::close(fd);
    return nullptr;
  }
  artifact->mappingSize_ = uint64_t(info.st_size);
  void *data = mmap(nullptr, artifact->mappingSize_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (data == MAP_FAILED) {
    error = formatMessage("%s: cannot map: %s", path.c_str(), std::strerror(errno));
    return nullptr;
  }
  artifact->mapping_ = data;
  if (!artifact->locate(error) || !artifact->verify(error, checkTarget))
    return nullptr;
  return artifact;
}

std::unique_ptr<MappedArtifact> MappedArtifact::view(const void *data, uint64_t size,
                                                     const std::string &name,
                                                     std::string &error) {
  std::unique_ptr<MappedArtifact> artifact(new MappedArtifact());
  artifact->path_ = name;
  artifact->data_ = static_cast<const uint8_t *>(data);
  artifact->size_ = size;
  if (!artifact->verify(error, /*checkTarget=*/true))
    return nullptr;
  return artifact;
}

uint64_t MappedArtifact::manifestChecksum() const {
  ArtifactHeader header;
  std::memcpy(&header, data_, sizeof(header));
  return header.manifestChecksum;
}

bool MappedArtifact::locate(std::string &error) {
  const auto *bytes = static_cast<const uint8_t *>(mapping_);
  data_ = bytes;
  size_ = mappingSize_;
  ExecutableTrailer trailer;
  if (size_ < sizeof(trailer) || std::memcmp(bytes, kArtifactMagic, sizeof(kArtifactMagic)) == 0)
    return true;
  std::memcpy(&trailer, bytes + size_ - sizeof(trailer), sizeof(trailer));
  if (std::memcmp(trailer.magic, kExecutableMagic, sizeof(kExecutableMagic)) != 0)
    return true; // verify() reports the bad magic
  if (!fits(trailer.artifactOffset, trailer.artifactSize, size_ - sizeof(trailer)) ||
      trailer.artifactOffset % kSectionAlignment) {
    error = formatMessage("%s: the executable's artifact [%llu, +%llu) is misaligned or past the end of "
                   "the file; the file is damaged",
                   path_.c_str(), (unsigned long long)trailer.artifactOffset,
                   (unsigned long long)trailer.artifactSize);
    return false;
  }
  data_ = bytes + trailer.artifactOffset;
  size_ = trailer.artifactSize;
  return true;
}

bool MappedArtifact::verify(std::string &error, bool checkTarget) {
  const char *path = path_.c_str();
  ArtifactHeader header;
  if (size_ < sizeof(header)) {
    error = formatMessage("%s: truncated: %llu bytes, shorter than the 64-byte header", path,
                   (unsigned long long)size_);
    return false;
  }
  std::memcpy(&header, data_, sizeof(header));
  if (std::memcmp(header.magic, kArtifactMagic, sizeof(kArtifactMagic)) != 0) {
    error = formatMessage("%s: not a gemc artifact (bad magic)", path);
    return false;
  }
  if (header.formatVersion != kFormatVersion) {
    error = formatMessage("%s: artifact format version %u, this runtime reads version %u; recompile "
                   "the model",
                   path, header.formatVersion, kFormatVersion);
    return false;
  }
  if (!fits(header.manifestOffset, header.manifestSize, size_)) {
    error = formatMessage("%s: manifest [%llu, +%llu) lies past the end of the file (%llu bytes); the "
                   "file is truncated",
                   path, (unsigned long long)header.manifestOffset,
                   (unsigned long long)header.manifestSize, (unsigned long long)size_);
    return false;
  }
  const uint8_t *manifestBytes = data_ + header.manifestOffset;
  if (checksum64(manifestBytes, header.manifestSize) != header.manifestChecksum) {
    error = formatMessage("%s: manifest checksum mismatch: the file is damaged", path);
    return false;
  }
  flatbuffers::Verifier verifier(manifestBytes, header.manifestSize);
  if (!artifact::VerifyManifestBuffer(verifier)) {
    error = formatMessage("%s: manifest fails FlatBuffers verification", path);
    return false;
  }
  manifest_ = artifact::GetManifest(manifestBytes);
  const artifact::Manifest &m = *manifest_;
  if (!m.model() || !m.target() || !m.plan() || !m.sections() ||
      !m.target()->triple() || !m.target()->name() || !m.target()->features()) {
    error = formatMessage("%s: manifest lacks a required field", path);
    return false;
  }
  std::set<std::string_view> names;
  // The byte ranges the checksums cover: the header's fields, the manifest, every section.
  std::vector<std::pair<uint64_t, uint64_t>> checked = {
      {0, offsetof(ArtifactHeader, reserved)},
      {offsetof(ArtifactHeader, manifestOffset),
       offsetof(ArtifactHeader, padding) - offsetof(ArtifactHeader, manifestOffset)},
      {header.manifestOffset, header.manifestSize}};
  for (const artifact::Section *s : *m.sections()) {
    const char *name = s->name() ? s->name()->c_str() : "?";
    if (!names.insert(name).second) { // each checksum pass must cover new bytes
      error = formatMessage("%s: manifest names section '%s' twice", path, name);
      return false;
    }
    if (!fits(s->offset(), s->size(), size_) || s->offset() % kSectionAlignment) {
      error = formatMessage("%s: section '%s' [%llu, +%llu) is misaligned or past the end of the file "
                     "(%llu bytes)",
                     path, name, (unsigned long long)s->offset(), (unsigned long long)s->size(),
                     (unsigned long long)size_);
      return false;
    }
    if (checksum64(data_ + s->offset(), s->size()) != s->checksum()) {
      error = formatMessage("%s: section '%s' checksum mismatch: the file is damaged", path, name);
      return false;
    }
    checked.push_back({s->offset(), s->size()});
  }
  if (uint64_t at = firstNonZeroOutside(data_, size_, checked); at != size_) {
    error = formatMessage("%s: byte %llu lies outside the header's fields, the manifest and every section "
                   "but is not zero: the file is damaged",
                   path, (unsigned long long)at);
    return false;
  }
  bool gpu = runsOnVulkan(*m.target());
  bool synthetic = m.synthetic_weights() != nullptr;
  for (const char *required : {gpu ? "spirv" : "code", synthetic ? nullptr : "weights"})
    if (required && !section(required)) {
      error = formatMessage("%s: manifest has no '%s' section", path, required);
      return false;
    }
  if (synthetic && section("weights")) {
    error = formatMessage("%s: manifest has a 'weights' section and synthetic_weights", path);
    return false;
  }
  if (synthetic && m.synthetic_weights()->bytes() > (1ull << 60)) {
    error = formatMessage("%s: manifest's synthetic weights need more than 2^60 bytes", path);
    return false;
  }
  uint64_t weightsSize = synthetic ? m.synthetic_weights()->bytes() : 0, spirvSize = 0;
  section("weights", &weightsSize);
  section("spirv", &spirvSize);
  if (std::string why = checkManifestFields(m, weightsSize, gpu ? spirvSize : 0); !why.empty()) {
    error = formatMessage("%s: %s", path, why.c_str());
    return false;
  }
  if (std::string why = checkTarget ? checkTargetAgainstHost(*m.target()) : "";
      !why.empty()) {
    error = formatMessage("%s: cannot run here: %s", path, why.c_str());
    return false;
  }
  return true;
}

bool MappedArtifact::looksLikeArtifact(const std::string &path) {
  char magic[sizeof(kArtifactMagic)] = {};
  ExecutableTrailer trailer = {};
  FILE *file = std::fopen(path.c_str(), "rb");
  bool head = file && std::fread(magic, 1, sizeof(magic), file) == sizeof(magic);
  bool tail = file && std::fseek(file, -long(sizeof(trailer)), SEEK_END) == 0 &&
              std::fread(&trailer, 1, sizeof(trailer), file) == sizeof(trailer);
  if (file)
    std::fclose(file);
  return (head && std::memcmp(magic, kArtifactMagic, sizeof(magic)) == 0) ||
         (tail && std::memcmp(trailer.magic, kExecutableMagic, sizeof(trailer.magic)) == 0);
}

std::string_view MappedArtifact::tokenizerModel() const {
  uint64_t size = 0;
  const uint8_t *bytes = section("tokenizer", &size);
  return bytes ? std::string_view(reinterpret_cast<const char *>(bytes), size) : "";
}

const uint8_t *MappedArtifact::section(const char *name, uint64_t *size) const {
  for (const artifact::Section *s : *manifest_->sections())
    if (s->name() && s->name()->string_view() == name) {
      if (size)
        *size = s->size();
      return data_ + s->offset();
    }
  return nullptr;
}

const uint8_t *MappedArtifact::weights(uint64_t *size) const {
  const artifact::SyntheticWeights *synthetic = manifest_->synthetic_weights();
  if (!synthetic)
    return section("weights", size);
  std::call_once(syntheticOnce_, [&] { generateSyntheticWeights(); });
  if (size)
    *size = synthetic->bytes();
  return syntheticWeights_.get();
}

/// Every tensor's rows, in pieces that the machine's threads take in turn.
void MappedArtifact::generateSyntheticWeights() const {
  uint64_t bytes = manifest_->synthetic_weights()->bytes();
  syntheticWeights_.reset(static_cast<uint8_t *>(
      std::aligned_alloc(kSectionAlignment, (bytes / kSectionAlignment + 1) * kSectionAlignment)));
  if (!syntheticWeights_)
    return;
  std::memset(syntheticWeights_.get(), 0, bytes); // the padding between tensors
  struct Piece {
    SyntheticTensor tensor;
    int64_t begin, end;
  };
  std::vector<Piece> pieces;
  constexpr int64_t kPieceBytes = 1 << 20;
  if (manifest_->tensors())
    for (const artifact::Tensor *t : *manifest_->tensors()) {
      SyntheticTensor tensor = *syntheticTensor(*t, syntheticWeights_.get()); // verified
      int64_t unit = std::max<int64_t>(1, tensor.tileRows); // pieces of whole tiles
      int64_t rowsPerPiece =
          std::max<int64_t>(1, kPieceBytes / int64_t(rowBytes(tensor.format, tensor.columns)) /
                                   unit) *
          unit;
      for (int64_t row = 0; row < tensor.rows; row += rowsPerPiece)
        pieces.push_back({tensor, row, std::min(tensor.rows, row + rowsPerPiece)});
    }
  uint64_t seed = manifest_->synthetic_weights()->seed();
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < pieces.size();)
      fillSyntheticRows(pieces[i].tensor, seed, pieces[i].begin, pieces[i].end);
  };
  std::vector<std::thread> threads(std::max(1u, std::thread::hardware_concurrency()) - 1);
  for (std::thread &thread : threads)
    thread = std::thread(work);
  work();
  for (std::thread &thread : threads)
    thread.join();
}

std::vector<KernelFunction> MappedArtifact::bindKernels(std::string &error) {
  // The code section is a shared object; dlopen it from an anonymous in-memory file.
  uint64_t size = 0;
  const uint8_t *code = section("code", &size);
  int fd = memfd_create("gemc-code", MFD_CLOEXEC);
  bool written = fd >= 0;
  for (uint64_t done = 0; written && done < size;) {
    ssize_t n = ::write(fd, code + done, size - done);
    written = n > 0;
    done += written ? uint64_t(n) : 0;
  }
  if (!written) {
    error = formatMessage("%s: cannot stage the code section: %s", path_.c_str(), std::strerror(errno));
    if (fd >= 0)
      ::close(fd);
    return {};
  }
  std::string procPath = formatMessage("/proc/self/fd/%d", fd);
  library_ = dlopen(procPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  ::close(fd);
  if (!library_) {
    error = formatMessage("%s: cannot load the code section: %s", path_.c_str(), dlerror());
    return {};
  }
  std::vector<KernelFunction> kernels;
  for (const artifact::Dispatch *d : *manifest_->dispatches()) {
    void *kernel = dlsym(library_, d->kernel()->c_str());
    if (!kernel) {
      error = formatMessage("%s: the code section has no kernel '%s'", path_.c_str(),
                     d->kernel()->c_str());
      return {};
    }
    kernels.push_back(reinterpret_cast<KernelFunction>(kernel));
  }
  return kernels;
}

} // namespace gemc
