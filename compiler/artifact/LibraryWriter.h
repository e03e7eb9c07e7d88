//===- LibraryWriter.h - A model as a static library and a C header -------===//
//
// `gemc compile --emit lib -o DIR/NAME.a` writes a static library that holds the model's code,
// the runtime and, with embedded weights, the whole artifact as read-only data, plus DIR/NAME.h:
// the runtime's C API and NAME_open() (embedded weights) or NAME_open_file(path) (weights read
// from DIR/NAME.gemc, written alongside). The model's code is linked, not dlopen'ed, so it works
// where there is no dynamic loader; its kernels are renamed NAME_k* so several models can be
// linked into one program, and NAME_kernels lists them in dispatch order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/artifact/ArtifactWriter.h"
#include "targets/cpu/CpuTarget.h"

#include <llvm/Support/Error.h>
#include <mlir/IR/BuiltinOps.h>

#include <string>

namespace gemc {

struct LibraryRequest {
  std::string output;       // DIR/NAME.a
  std::string name;         // a C identifier, the prefix of the generated functions
  std::string artifactPath; // the artifact already written for this module's code
  WrittenArtifact artifact;  // what writeArtifact returned for it
  bool embedWeights = true;
  const MemoryPlan &plan;    // its dispatches name the kernels to link
};

/// The C identifier for a library written to `output` ("libgemma-e2b.a" -> "gemma_e2b").
std::string libraryName(const std::string &output);

/// Writes the archive and header of `request`: `modelObject` (the object the artifact's code
/// section was linked from, so the model's code is generated once) with its entry points
/// renamed NAME_* (several models link into one program), the NAME_open glue compiled in
/// `context`, the artifact as data when embedded, and the runtime.
llvm::Error writeLibrary(llvm::StringRef modelObject, mlir::MLIRContext *context,
                         const CpuTarget &target, const LibraryRequest &request);

} // namespace gemc
