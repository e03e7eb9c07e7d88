//===- MediaPrompt.h - Media soft tokens in an expanded prompt ---------------===//
//
// In a prompt of token ids as the processor expands it, each maximal run of a media
// placeholder id (<|image|>, <|audio|>) stands for the soft tokens of the next file of that
// kind, one id per soft token. checkMediaRuns says whether the runs and the files agree.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gemc {

/// One media file's soft token count, and its name for messages.
struct MediaTokens {
  std::string name;
  int64_t tokens = 0;
};

/// The lengths of the maximal runs of `placeholder` in `ids`, in order.
std::vector<int64_t> placeholderRuns(const std::vector<int32_t> &ids, int32_t placeholder);

/// Success when the runs of `placeholder` in `ids` are exactly `files`' soft token counts, in
/// order; else a message saying which run or file does not fit. `flag` (--tokens) and `kind`
/// ("image") start it.
bool checkMediaRuns(const std::vector<int32_t> &ids, int32_t placeholder,
                    const std::vector<MediaTokens> &files, const std::string &flag,
                    const std::string &kind, std::string &error);

} // namespace gemc
