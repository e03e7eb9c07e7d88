//===- Commands.h - The subcommands of gemc ---------------------------------===//
//
// Each subcommand is a plain options struct filled by CLI11 in main.cpp and a function that
// runs it and returns an llvm::Error for main to print. Loading and compiling a checkpoint is
// compiler/driver's; token parsing is in Common.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/driver/CompileCheckpoint.h"
#include "tools/runner/Runner.h"

#include <llvm/Support/Error.h>

#include <string>
#include <vector>

namespace gemc {

/// compileCheckpoint (compiler/driver), then the summary line on stderr.
llvm::Error runCompile(const CompileOptions &options);

struct EvalOptions {
  std::string checkpoint;
  std::string prompt; // text, or
  std::string tokens; // ids
  int64_t generate = 0;
  std::string dumpLogits;
  QuantOptions quant; // run on the values these formats store
  std::vector<std::string> images; // one per <|image|> in `prompt` or run of its id in `tokens`
  std::vector<std::string> audio;  // one per run of the audio placeholder id
  int64_t imageTokens = 0;         // the soft-token budget; 0: the checkpoint's default
};
llvm::Error runEval(const EvalOptions &options);

llvm::Error runRun(const RunOptions &options);
llvm::Error runChat(const ChatOptions &options);

struct BenchOptions {
  std::string artifact;
  int64_t prompt = 128;
  int64_t generate = 32;
  int64_t threads = 0;
  int32_t device = -1; // a GPU artifact's Vulkan device; -1: the default choice
  std::string format = "md";
};
llvm::Error runBench(const BenchOptions &options);

struct QuantExploreOptions {
  std::string checkpoint;
  std::vector<std::string> configs; // format names or config files
  std::string tokens, text;         // the token set: ids, or text to tokenize (default: built in)
  int64_t maxTokens = 256;
  int64_t decodeTokens = 16;
  std::string outDir = "quant-explore";
  std::string target = "host";
  int64_t threads = 0;
  bool keep = false; // keep the artifacts in outDir
};
llvm::Error runQuantExplore(const QuantExploreOptions &options);

struct TokenizeOptions {
  std::string path; // checkpoint directory, tokenizer.json, tokenizer.model or artifact
  std::string text, file;
  bool noBos = false;
};
llvm::Error runTokenize(const TokenizeOptions &options);

struct InspectOptions {
  std::string artifact;
  int32_t device = -1;
};
llvm::Error runInspect(const InspectOptions &options);

} // namespace gemc
