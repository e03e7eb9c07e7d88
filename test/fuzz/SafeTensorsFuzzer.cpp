//===- SafeTensorsFuzzer.cpp - Fuzzes safetensors header validation --------===//
//
// The input is a whole safetensors file. A valid one must describe tensors that lie inside it;
// the harness reads every byte of every tensor so that ASan catches any that do not.

#include "frontends/SafeTensors.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.safetensors");
  auto file = gemc::SafeTensorsFile::parse(std::move(buffer), "fuzz.safetensors");
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  volatile uint8_t sink = 0;
  for (const gemc::TensorInfo &tensor : (*file)->tensors()) {
    for (uint64_t i = 0; i < tensor.numBytes; ++i)
      sink = sink ^ tensor.data[i];
    (void)tensor.numElements();
    (void)(*file)->find(tensor.name);
  }
  return 0;
}
