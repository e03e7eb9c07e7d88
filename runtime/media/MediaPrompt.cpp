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

} // namespace gemc
