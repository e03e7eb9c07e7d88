//===- Common.h - Pieces the gemc subcommands share -------------------------===//
#pragma once

#include "compiler/driver/CompileCheckpoint.h"
#include "runtime/Tokenizer.h"
#include "tools/gemc/Commands.h"

#include <llvm/Support/Error.h>

namespace gemc {

/// Parses "2,17,5" into ids in [0, vocabSize); the error names the flag and the bad entry.
llvm::Expected<std::vector<int32_t>> parseTokenIds(const std::string &text, int64_t vocabSize,
                                                   const std::string &flag);

/// The tokenizer of a checkpoint directory, a tokenizer.json or tokenizer.model, or a compiled
/// artifact (the one its runtime will use).
llvm::Expected<std::unique_ptr<Tokenizer>> loadTokenizer(const std::string &path);

} // namespace gemc
