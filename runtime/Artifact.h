//===- Artifact.h - A mapped and verified gemc artifact -------------------===//
//
// MappedArtifact maps an artifact file read-only and verifies it before anything else touches
// it: header magic and version, manifest bounds and checksum, the FlatBuffers verifier, required
// fields, every section's bounds, alignment and checksum, and the target against the running
// CPU. Errors name the file and what is wrong. Binding the code (bindCode) comes after.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/ForwardAbi.h"
#include "runtime/artifact_generated.h"

#include <memory>
#include <string>

namespace gemc {

class MappedArtifact {
public:
  ~MappedArtifact();
  /// Maps and verifies `path`; on failure returns null and sets `error`. `checkTarget` also
  /// checks that this CPU can run the code (off for `gemc inspect` of cross-compiled files).
  static std::unique_ptr<MappedArtifact> open(const std::string &path, std::string &error,
                                              bool checkTarget = true);

  const artifact::Manifest &manifest() const { return *manifest_; }
  /// The bytes of a section by name, or null.
  const uint8_t *section(const char *name, uint64_t *size = nullptr) const;
  /// Loads the code section as a shared object and finds the entry point.
  ForwardFunction bindCode(std::string &error);

private:
  MappedArtifact() = default;
  bool verify(std::string &error, bool checkTarget);

  std::string path_;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
  const artifact::Manifest *manifest_ = nullptr;
  void *library_ = nullptr;
};

} // namespace gemc

struct gemc_model;

namespace gemc {

/// The verified artifact behind an open runtime model (for tools that read its manifest).
const MappedArtifact &artifactOf(const gemc_model *model);

/// Why the running CPU cannot execute code for `target`, or "" if it can.
std::string checkTargetAgainstHost(const artifact::Target &target);

} // namespace gemc
