//===- CompileCheckpoint.h - A checkpoint compiled, as a library call --------===//
//
// What `gemc compile` does, callable from any tool or test: open and import a checkpoint
// (loadModel), then lower, generate code and write the requested output (compileCheckpoint).
// The command line only parses flags and prints the summary.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontends/Checkpoint.h"
#include "runtime/common/ExecutionAbi.h"
#include "targets/cpu/CpuTarget.h"

#include <llvm/Support/Error.h>
#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/OwningOpRef.h>

#include <memory>
#include <string>

namespace gemc {

/// --quant FORMAT or --quant-config FILE (at most one); neither keeps the checkpoint's dtypes.
struct QuantOptions {
  std::string format, configFile;
  std::string activations; // "f32", "int8", "bf16" or empty: the config's choice
};

/// An open checkpoint and its verified gemma module.
struct LoadedModel {
  Checkpoint checkpoint;
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};
/// Opens and imports a checkpoint (`synthetic`: config.json alone, Checkpoint::openSynthetic);
/// with a quantization config, its weights get their formats. `media`: the forward function
/// takes soft tokens (importCheckpoint), for the interpreter.
llvm::Expected<LoadedModel> loadModel(const std::string &dir,
                                      const QuantOptions &quant = QuantOptions(),
                                      bool synthetic = false, bool media = false);

struct CompileOptions {
  std::string checkpoint;
  QuantOptions quant;
  std::string output;
  std::string emit = "artifact"; // artifact, exe, lib, mlir, llvm, obj or spirv (a directory)
  std::string target = "host";   // a CPU target or vulkan
  std::string cpu;               // with target host: compile for this LLVM CPU instead
  std::string cpuFeatures;       // "+avxvnni,-avx512bf16": features added to or removed from it
  int64_t maxChunk = 64;
  std::string libWeights = "embedded"; // --emit lib: embedded (linked in) or file (NAME.gemc)
  uint64_t maxBindingBytes = kMaxGpuBindingBytes; // vulkan: larger weights are bound in parts
  /// Reads config.json only and writes no weights: the runtime generates them from this seed.
  std::optional<uint64_t> syntheticSeed;
};

/// What a compile wrote (empty `outputs` for --emit mlir, llvm and obj).
struct CompileReport {
  std::string outputs;
  CpuTarget target;
  uint64_t codeBytes = 0, weightBytes = 0;
  double seconds = 0;
};
/// Compiles `options.checkpoint` and writes `options.output` (and, for a library, its header
/// and artifact beside it); nothing is left behind on failure.
llvm::Expected<CompileReport> compileCheckpoint(const CompileOptions &options);

/// Writes `bytes` to `path` through a temporary file and a rename: never a partial file.
llvm::Error writeFile(const std::string &path, llvm::StringRef bytes);

} // namespace gemc
