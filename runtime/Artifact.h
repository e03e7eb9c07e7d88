//===- Artifact.h - A mapped and verified gemc artifact -------------------===//
//
// MappedArtifact maps an artifact file read-only and verifies it before anything else touches
// it: header magic and version, manifest bounds and checksum, the FlatBuffers verifier, required
// fields, every section's bounds, alignment and checksum, and the target against the running
// CPU. Errors name the file and what is wrong. Binding the code (bindKernels) comes after.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/common/ExecutionAbi.h"
#include "runtime/artifact_generated.h"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gemc {

class MappedArtifact {
public:
  ~MappedArtifact();
  /// Maps and verifies `path` (an artifact, or an executable with one appended); on failure
  /// returns null and sets `error`. `checkTarget` also checks that this CPU can run the code
  /// (off for `gemc inspect` of cross-compiled files).
  static std::unique_ptr<MappedArtifact> open(const std::string &path, std::string &error,
                                              bool checkTarget = true);

  /// Verifies an artifact already in memory (linked into a program by `gemc compile --emit
  /// lib`); `name` stands for it in errors. The bytes must outlive the object.
  static std::unique_ptr<MappedArtifact> view(const void *data, uint64_t size,
                                              const std::string &name, std::string &error);

  /// Whether `path` is an artifact or carries one (nothing is verified).
  static bool looksLikeArtifact(const std::string &path);

  const artifact::Manifest &manifest() const { return *manifest_; }
  /// The serialized SentencePiece model of the "tokenizer" section; empty if there is none.
  std::string_view tokenizerModel() const;
  /// The bytes of a section by name, or null.
  const uint8_t *section(const char *name, uint64_t *size = nullptr) const;
  /// The weights: the weights section, or those of a synthetic artifact, generated on the
  /// first call (null if memory ran out).
  const uint8_t *weights(uint64_t *size = nullptr) const;
  /// Loads the code section as a shared object and finds each dispatch's kernel, in order; on
  /// failure returns none and sets `error`.
  std::vector<KernelFunction> bindKernels(std::string &error);
  /// The manifest's checksum (from the header): identifies the compiled model.
  uint64_t manifestChecksum() const;

private:
  MappedArtifact() = default;
  bool verify(std::string &error, bool checkTarget);
  bool locate(std::string &error); // finds the artifact in the mapping

  std::string path_;
  void *mapping_ = nullptr;
  uint64_t mappingSize_ = 0;
  const uint8_t *data_ = nullptr; // the artifact's first byte, within the mapping
  uint64_t size_ = 0;
  const artifact::Manifest *manifest_ = nullptr;
  void *library_ = nullptr;
  struct Free {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  void generateSyntheticWeights() const;
  mutable std::once_flag syntheticOnce_;
  mutable std::unique_ptr<uint8_t, Free> syntheticWeights_;
};

} // namespace gemc

struct gemc_model;

namespace gemc {

/// The verified artifact behind an open runtime model (for tools that read its manifest).
const MappedArtifact &artifactOf(const gemc_model *model);

/// Why the running CPU cannot execute code for `target`, or "" if it can.
std::string checkTargetAgainstHost(const artifact::Target &target);

/// Whether the code is for the `vulkan` target (SPIR-V kernels), not for a CPU.
bool runsOnVulkan(const artifact::Target &target);

/// A dispatch's bindings, as the execution ABI describes them.
std::vector<BindingRange> bindingsOf(const artifact::Dispatch &dispatch);

/// Bytes of a session's KV cache at `contextLength`.
uint64_t kvCacheBytes(const artifact::MemoryPlan &plan, int64_t contextLength);

} // namespace gemc
