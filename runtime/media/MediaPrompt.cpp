//===- MediaPrompt.cpp - Media soft tokens in an expanded prompt -------------===//

#include "runtime/media/MediaPrompt.h"

#include "runtime/common/Format.h"

namespace gemc {

std::vector<int64_t> placeholderRuns(const std::vector<int32_t> &ids, int32_t placeholder) {
  std::vector<int64_t> runs;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == placeholder) {
      if (i == 0 || ids[i - 1] != placeholder)
        runs.push_back(0);
      ++runs.back();
    }
  return runs;
}

bool checkMediaRuns(const std::vector<int32_t> &ids, int32_t placeholder,
                    const std::vector<MediaTokens> &files, const std::string &flag,
                    const std::string &kind, std::string &error) {
  std::vector<int64_t> runs = placeholderRuns(ids, placeholder);
  if (runs.size() != files.size()) {
    error = formatMessage("%s has %zu run%s of the %s placeholder id %d, but %zu %s file%s %s "
                          "given",
                          flag.c_str(), runs.size(), runs.size() == 1 ? "" : "s", kind.c_str(),
                          placeholder, files.size(), kind.c_str(), files.size() == 1 ? "" : "s",
                          files.size() == 1 ? "was" : "were");
    return false;
  }
  for (size_t i = 0; i < runs.size(); ++i)
    if (runs[i] != files[i].tokens) {
      error = formatMessage("%s: run %zu of the %s placeholder id %d has %lld ids, but %s is "
                            "%lld soft tokens: expected %lld ids",
                            flag.c_str(), i + 1, kind.c_str(), placeholder, (long long)runs[i],
                            files[i].name.c_str(), (long long)files[i].tokens,
                            (long long)files[i].tokens);
      return false;
    }
  return true;
}

namespace {

/// How often `needle` occurs in `text`, not overlapping.
size_t occurrences(std::string_view text, std::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size()))
    ++count;
  return count;
}

void appendFile(const MediaSlot &slot, const MediaTokens &file, std::vector<int32_t> &ids) {
  ids.push_back(slot.begin);
  ids.insert(ids.end(), size_t(file.tokens), slot.placeholder);
  ids.push_back(slot.end);
}

} // namespace

bool expandMediaPrompt(std::string_view text, int32_t bos, const std::vector<MediaSlot> &slots,
                       const std::function<std::vector<int32_t>(std::string_view)> &encode,
                       std::vector<int32_t> &ids, std::string &error) {
  ids.clear();
  if (bos >= 0)
    ids.push_back(bos);
  std::vector<size_t> next(slots.size(), 0); // per slot: its next file
  for (size_t k = 0; k < slots.size(); ++k) {
    const MediaSlot &slot = slots[k];
    size_t named = occurrences(text, slot.text);
    if (named == 0) { // every file of this kind goes first
      for (const MediaTokens &file : slot.files)
        appendFile(slot, file, ids);
      next[k] = slot.files.size();
    } else if (named != slot.files.size()) {
      error = formatMessage("the prompt has %zu %s but %zu %s file%s %s given with %s: put one "
                            "%s in the text for each file, or none to have them all before it",
                            named, slot.text.c_str(), slot.files.size(), slot.kind.c_str(),
                            slot.files.size() == 1 ? "" : "s",
                            slot.files.size() == 1 ? "was" : "were", slot.flag.c_str(),
                            slot.text.c_str());
      return false;
    }
  }
  while (!text.empty()) {
    // The earliest slot text left in the prompt, if any.
    size_t at = std::string_view::npos, which = 0;
    for (size_t k = 0; k < slots.size(); ++k)
      if (size_t found = text.find(slots[k].text); found < at)
        at = found, which = k;
    std::vector<int32_t> piece = encode(text.substr(0, at));
    ids.insert(ids.end(), piece.begin(), piece.end());
    if (at == std::string_view::npos)
      break;
    appendFile(slots[which], slots[which].files[next[which]++], ids);
    text.remove_prefix(at + slots[which].text.size());
  }
  return true;
}

} // namespace gemc
