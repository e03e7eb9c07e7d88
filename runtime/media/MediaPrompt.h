//===- MediaPrompt.h - Media soft tokens in an expanded prompt ---------------===//
//
// In a prompt of token ids as the processor expands it, each maximal run of a media
// placeholder id (<|image|>, <|audio|>) stands for the soft tokens of the next file of that
// kind, one id per soft token. checkMediaRuns says whether the runs and the files agree;
// expandMediaPrompt makes such ids from a text prompt, as Gemma 4's processor does.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
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

/// A kind of media in a text prompt: the text that stands for one file ("<|image|>"), the
/// placeholder id its soft tokens take, the ids the processor puts around them (<boi>, <eoi>),
/// and the files given, in order.
struct MediaSlot {
  std::string text, kind, flag;
  int32_t placeholder = 0, begin = 0, end = 0;
  std::vector<MediaTokens> files;
};

/// The ids of `text` as Gemma 4's processor expands it: `bos` (if >= 0), then the text, whose
/// pieces between slot texts `encode` tokenizes, with each slot text taking the next file of
/// its kind as begin, N x placeholder, end. A kind whose text the prompt never names has all
/// its files put before the text (after `bos`), as the chat template puts media first; a
/// prompt that names some of a kind's files but not all, or files not given, is an error.
bool expandMediaPrompt(std::string_view text, int32_t bos, const std::vector<MediaSlot> &slots,
                       const std::function<std::vector<int32_t>(std::string_view)> &encode,
                       std::vector<int32_t> &ids, std::string &error);

} // namespace gemc
