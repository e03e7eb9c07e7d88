//===- BlobObject.h - A file's bytes as a linkable read-only symbol -------===//
//
// `gemc compile --emit lib` links the artifact (weights and all) into the user's program as
// read-only data, for firmware without a file system. The bytes can be gigabytes, far too many to
// pass through LLVM IR, so this writes the ELF relocatable object directly, copying the file in
// pieces: one 4096-aligned section, one global symbol. On x86-64 the section is marked large
// (.lrodata, SHF_X86_64_LARGE) so linkers keep it away from code and small data; aarch64 has no
// such section, so blobs there are limited to 1 GiB.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "targets/cpu/CpuTarget.h"

#include <llvm/Support/Error.h>

#include <string>

namespace gemc {

/// Writes to `objectPath` an object defining `symbol` as the bytes of `sourcePath`.
llvm::Error writeBlobObject(const std::string &objectPath, const CpuTarget &target,
                            const std::string &symbol, const std::string &sourcePath);

} // namespace gemc
