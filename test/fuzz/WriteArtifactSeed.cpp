//===- WriteArtifactSeed.cpp - Writes the artifact fuzzer's seed -----------===//
//
// Usage: gemc-write-artifact-seed FILE. A small valid artifact (test/unit/runtime/FakeArtifact).

#include "test/unit/runtime/FakeArtifact.h"

#include <cstdio>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  std::vector<uint8_t> bytes = gemc::test::buildFakeArtifact({});
  FILE *file = std::fopen(argv[1], "wb");
  bool written = file && std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (file)
    written = std::fclose(file) == 0 && written;
  if (!written)
    std::perror(argv[1]);
  return written ? 0 : 1;
}
