//===- ArtifactFormat.h - The on-disk layout of a gemc artifact -----------===//
//
// Shared by the artifact writer (compiler) and the loader (runtime); no LLVM or MLIR. A file
// starts with ArtifactHeader; the FlatBuffers manifest (schema/artifact.fbs) and 4096-aligned
// raw sections follow. All integers are little-endian.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>

namespace gemc {

constexpr char kArtifactMagic[8] = {'G', 'E', 'M', 'C', 'A', 'R', 'T', '\0'};
// 2: the code is a table of dispatches (one kernel each) instead of one entry point.
constexpr uint32_t kFormatVersion = 2;
constexpr uint64_t kSectionAlignment = 4096;

struct ArtifactHeader {
  char magic[8];
  uint32_t formatVersion;
  uint32_t reserved;
  uint64_t manifestOffset;
  uint64_t manifestSize;
  uint64_t manifestChecksum;
  uint8_t padding[24];
};
static_assert(sizeof(ArtifactHeader) == 64);

/// The last bytes of an executable from `gemc compile --emit exe`: the runner program, then the
/// artifact at a 4096-aligned offset (so its sections can be mapped in place), then this.
constexpr char kExecutableMagic[8] = {'G', 'E', 'M', 'C', 'E', 'X', 'E', '\0'};
struct ExecutableTrailer {
  char magic[8];
  uint64_t artifactOffset;
  uint64_t artifactSize;
};
static_assert(sizeof(ExecutableTrailer) == 24);

/// A fast 64-bit checksum (not cryptographic): detects damage, not tampering.
class Checksum64 {
public:
  void update(const void *data, size_t size);
  uint64_t value() const;

private:
  uint64_t state_ = 0x9E3779B97F4A7C15ull;
  uint64_t length_ = 0;
  uint8_t pending_[8] = {};
  size_t pendingSize_ = 0;
};

uint64_t checksum64(const void *data, size_t size);

} // namespace gemc
