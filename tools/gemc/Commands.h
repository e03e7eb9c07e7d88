//===- Commands.h - The subcommands of gemc ---------------------------------===//
//
// Each subcommand is a plain options struct filled by CLI11 in main.cpp and a function that
// runs it and returns an llvm::Error for main to print.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/Support/Error.h>

#include <string>

namespace gemc {

struct CompileOptions {
  std::string checkpoint;
  std::string output;
  std::string emit = "artifact";
};
llvm::Error runCompile(const CompileOptions &options);

struct EvalOptions {
  std::string checkpoint;
  std::string tokens;
  int64_t generate = 0;
  std::string dumpLogits;
};
llvm::Error runEval(const EvalOptions &options);

/// Parses "2,17,5" into ids in [0, vocabSize); the error names the flag and the bad entry.
llvm::Expected<std::vector<int32_t>> parseTokenIds(const std::string &text, int64_t vocabSize,
                                                   const std::string &flag);

} // namespace gemc
