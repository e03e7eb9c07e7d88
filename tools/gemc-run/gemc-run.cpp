//===- gemc-run.cpp - Runs an artifact with the runtime alone -------------===//
//
// `gemc-run ARTIFACT --tokens IDS [-n N] [--dump-logits FILE] [-t THREADS] [--context N]` does
// what `gemc run` does, but links only the runtime (no LLVM, no MLIR), so it can be built for
// another architecture and run there (tests run an aarch64 build under qemu).
//
//===----------------------------------------------------------------------===//

#include "runtime/Generation.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int usage() {
  std::fprintf(stderr, "usage: gemc-run ARTIFACT --tokens IDS [-n N] [--dump-logits FILE] "
                       "[-t THREADS] [--context N]\n");
  return 2;
}

bool parseCount(const char *text, int64_t &out) {
  char *end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  out = value;
  return end && *end == '\0' && end != text && value >= 0;
}

} // namespace

int main(int argc, char **argv) {
  gemc::RunRequest request;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool hasValue = i + 1 < argc;
    if (arg == "--tokens" && hasValue)
      request.tokens = argv[++i];
    else if (arg == "--dump-logits" && hasValue)
      request.dumpLogits = argv[++i];
    else if ((arg == "-n" || arg == "-t" || arg == "--context") && hasValue) {
      int64_t &target = arg == "-n" ? request.generate
                        : arg == "-t" ? request.threads
                                      : request.contextLength;
      if (!parseCount(argv[++i], target)) {
        std::fprintf(stderr, "gemc-run: error: %s needs a non-negative integer\n", arg.c_str());
        return 2;
      }
    } else if (request.artifact.empty() && arg[0] != '-')
      request.artifact = arg;
    else
      return usage();
  }
  if (request.artifact.empty() || request.tokens.empty())
    return usage();
  std::vector<int32_t> generated;
  std::string error;
  if (!gemc::runArtifact(request, generated, error)) {
    std::fprintf(stderr, "gemc-run: error: %s\n", error.c_str());
    return 1;
  }
  for (size_t i = 0; i < generated.size(); ++i)
    std::printf("%s%d", i ? "," : "", generated[i]);
  std::printf("\n");
  return 0;
}
