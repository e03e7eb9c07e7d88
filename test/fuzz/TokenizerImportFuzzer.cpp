//===- TokenizerImportFuzzer.cpp - Fuzzes tokenizer.json import ------------===//
//
// The input is a tokenizer.json; the import validates it and builds a SentencePiece model.
// (SentencePiece itself is not instrumented: its parser of the model we build is out of scope.)

#include "frontends/TokenizerImport.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef json(reinterpret_cast<const char *>(data), size);
  if (auto model = gemc::convertTokenizerJson(json, "tokenizer.json"); !model)
    llvm::consumeError(model.takeError());
  return 0;
}
