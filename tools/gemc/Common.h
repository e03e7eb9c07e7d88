//===- Common.h - Pieces the gemc subcommands share -------------------------===//
#pragma once

#include "frontends/Checkpoint.h"
#include "gemc/runtime.h"

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
llvm::Expected<LoadedModel> loadModel(const std::string &dir);

/// Parses "2,17,5" into ids in [0, vocabSize); the error names the flag and the bad entry.
llvm::Expected<std::vector<int32_t>> parseTokenIds(const std::string &text, int64_t vocabSize,
                                                   const std::string &flag);

/// Writes `bytes` to `path` through a temporary file and a rename: never a partial file.
llvm::Error writeFile(const std::string &path, llvm::StringRef bytes);

/// Owns a runtime model and session; the error of a failed runtime call.
struct RuntimeSession {
  gemc_model *model = nullptr;
  gemc_session *session = nullptr;
  ~RuntimeSession() {
    gemc_session_free(session);
    gemc_model_free(model);
  }
};
llvm::Error runtimeError();

/// Evaluates ids at the next positions and returns their logits, one row of `vocab` each.
using Evaluate = std::function<llvm::Expected<std::vector<float>>(const std::vector<int32_t> &)>;

/// Greedy decoding with the design.md contract: evaluates the prompt, then feeds back each
/// generated token but the last. Prints the generated ids on one line and writes every
/// evaluated row to `dumpPath` (if not empty).
llvm::Error generateGreedy(const Evaluate &evaluate, const std::vector<int32_t> &prompt,
                           int64_t count, int64_t vocab, const std::string &dumpPath);

} // namespace gemc
