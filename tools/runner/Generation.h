//===- Generation.h - Token lists and token-id decoding, without LLVM ------===//
//
// Shared by `gemc run --tokens`, `gemc eval` and the standalone runner (tools/gemc-run), which
// must build without LLVM: errors are plain strings. It prints and writes files, so it belongs
// to the command-line tools, not to the runtime library that apps embed.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Sampler.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gemc {

/// Parses "2,17,5" into ids in [0, vocabSize); on failure returns false and a message naming
/// `flag` and the bad entry.
bool parseTokenList(const std::string &text, int64_t vocabSize, const std::string &flag,
                    std::vector<int32_t> &ids, std::string &error);

/// Evaluates ids at the next positions, appending logits rows to `logits`: one per id, or only
/// the last id's when the caller keeps no dump (greedy decoding reads only the last row).
using EvaluateTokens = std::function<bool(const std::vector<int32_t> &ids,
                                          std::vector<float> &logits, std::string &error)>;

/// Decoding with the design.md contract: evaluates the prompt, then feeds back each generated
/// token but the last; `sampler` chooses each token (greedy: ties go to the lower id). `logits`
/// receives the rows evaluate appends: with one row per id, n_prompt + max(count - 1, 0).
bool generateTokens(const EvaluateTokens &evaluate, const std::vector<int32_t> &prompt,
                    int64_t count, int64_t vocab, Sampler &sampler,
                    std::vector<int32_t> &generated, std::vector<float> &logits,
                    std::string &error);

/// Prints ids on one line of stdout, comma-separated (design.md's output of run and eval).
void printTokenList(const std::vector<int32_t> &ids);

/// Writes float32 rows to `path` through a temporary file and a rename.
bool writeLogits(const std::string &path, const std::vector<float> &logits, std::string &error);

} // namespace gemc
