//===- Common.h - Pieces the gemc subcommands share -------------------------===//
#pragma once

#include "frontends/Checkpoint.h"
#include "tools/gemc/Commands.h"

#include <llvm/Support/Error.h>
#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/OwningOpRef.h>

#include <functional>
#include <memory>

namespace gemc {

/// An open checkpoint and its verified gemma module.
struct LoadedModel {
  Checkpoint checkpoint;
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};
/// Opens and imports a checkpoint; with a quantization config, its weights get their formats.
llvm::Expected<LoadedModel> loadModel(const std::string &dir,
                                      const QuantOptions &quant = QuantOptions());

/// Parses "2,17,5" into ids in [0, vocabSize); the error names the flag and the bad entry.
llvm::Expected<std::vector<int32_t>> parseTokenIds(const std::string &text, int64_t vocabSize,
                                                   const std::string &flag);

/// Writes `bytes` to `path` through a temporary file and a rename: never a partial file.
llvm::Error writeFile(const std::string &path, llvm::StringRef bytes);

} // namespace gemc
