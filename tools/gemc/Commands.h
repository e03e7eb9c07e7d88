//===- Commands.h - The subcommands of gemc ---------------------------------===//
//
// Each subcommand is a plain options struct filled by CLI11 in main.cpp and a function that
// runs it and returns an llvm::Error for main to print. Shared pieces (loading a checkpoint,
// token parsing, greedy decoding, atomic output) are in Common.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tools/runner/Runner.h"

#include <llvm/Support/Error.h>

#include <string>

namespace gemc {

struct CompileOptions {
  std::string checkpoint;
  std::string output;
  std::string emit = "artifact";
  std::string target = "host";
  int64_t maxChunk = 64;
  std::string libWeights = "embedded"; // --emit lib: embedded (linked in) or file (NAME.gemc)
};
llvm::Error runCompile(const CompileOptions &options);

struct EvalOptions {
  std::string checkpoint;
  std::string tokens;
  int64_t generate = 0;
  std::string dumpLogits;
  std::string quant, quantConfig; // run on the values these formats store
};
llvm::Error runEval(const EvalOptions &options);

llvm::Error runRun(const RunOptions &options);
llvm::Error runChat(const ChatOptions &options);

struct BenchOptions {
  std::string artifact;
  int64_t prompt = 128;
  int64_t generate = 32;
  int64_t threads = 0;
  std::string format = "md";
};
llvm::Error runBench(const BenchOptions &options);

struct TokenizeOptions {
  std::string path; // checkpoint directory, tokenizer.json, tokenizer.model or artifact
  std::string text, file;
  bool noBos = false;
};
llvm::Error runTokenize(const TokenizeOptions &options);

struct InspectOptions {
  std::string artifact;
};
llvm::Error runInspect(const InspectOptions &options);

} // namespace gemc
