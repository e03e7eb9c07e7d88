//===- Format.h - printf-style messages in the runtime ---------------------===//
//
// The runtime links neither LLVM nor fmt (its aarch64 build has only libc), so its messages
// are formatted with snprintf; the compiler's layers use fmt.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdio>
#include <string>

namespace gemc {

/// snprintf into a std::string of whatever length the message needs.
template <typename... Args> std::string formatMessage(const char *format, Args... args) {
  int length = std::snprintf(nullptr, 0, format, args...);
  std::string out(size_t(length > 0 ? length : 0), '\0');
  std::snprintf(out.data(), out.size() + 1, format, args...);
  return out;
}

} // namespace gemc
