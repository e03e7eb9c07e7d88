//===- TokenizerImport.h - tokenizer.json to a SentencePiece model --------===//
//
// Gemma checkpoints ship a Hugging Face `tokenizer.json`: a SentencePiece BPE model converted
// to explicit merges ("▁" for space, `<0xNN>` byte fallback, added tokens). The runtime encodes
// with the sentencepiece library, so the compiler converts that file back into a serialized
// SentencePiece ModelProto (gemma4-architecture.md §6):
//   - a piece's score is minus the rank of the first merge that produces it, so SentencePiece's
//     "best-scoring adjacent pair first" is Hugging Face's "lowest-ranked merge first";
//   - added tokens become USER_DEFINED pieces, which sentencepiece matches in the text as whole
//     tokens before BPE, as Hugging Face does (except those spelled with "▁": Hugging Face
//     matches them against the raw text, where "▁" never comes from a space, so they stay
//     ordinary pieces reachable through merges);
//   - `<0xNN>` pieces become BYTE pieces when the model has byte fallback.
// A checkpoint's own `tokenizer.model` is taken as it is.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/Support/Error.h>

#include <string>

namespace gemc {

/// Converts the tokenizer.json at `path` into a serialized SentencePiece ModelProto. Errors
/// name the file and the field.
llvm::Expected<std::string> convertTokenizerJson(llvm::StringRef json, const std::string &path);

/// The serialized ModelProto for `path`: a tokenizer.json, a tokenizer.model, or a checkpoint
/// directory holding one of them (tokenizer.json first: it is what Hugging Face uses). The
/// result is checked by loading it into sentencepiece.
llvm::Expected<std::string> importTokenizer(const std::string &path);

/// Whether a checkpoint directory ships a tokenizer.
bool hasTokenizer(const std::string &dir);

} // namespace gemc
