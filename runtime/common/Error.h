//===- Error.h - Errors of the layers that use LLVM ------------------------===//
//
// Every failure of the frontends, the dialect and the compiler is an llvm::Error whose message
// is meant for a person: it names the file and the field or tensor, and what was expected and
// found (design.md invariant 6). Header-only; the runtime, which has no LLVM, reports errors as
// strings and does not include it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <fmt/format.h>
#include <llvm/Support/Error.h>

namespace gemc {

/// Makes an llvm::Error from a fmt format string.
template <typename... Args>
llvm::Error makeError(fmt::format_string<Args...> format, Args &&...args) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 fmt::format(format, std::forward<Args>(args)...));
}

} // namespace gemc
