//===- Tokenizer.h - Text to token ids and back, with sentencepiece ------===//
//
// The runtime's tokenizer: a SentencePiece model (the compiler converts tokenizer.json into one
// and stores it in the artifact) loaded into the sentencepiece library. Decoding is per token so
// generated text can be streamed: a token's bytes are its piece with "▁" as a space, or the raw
// byte of a `<0xNN>` piece; Utf8Stream holds back an incomplete UTF-8 character until the
// pieces that finish it arrive.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace gemc {

class Tokenizer {
public:
  ~Tokenizer();
  /// Whether this build has sentencepiece (the aarch64 cross build of the runner does not).
  static bool available();
  /// Loads a serialized SentencePiece ModelProto; on failure returns null and sets `error`.
  static std::unique_ptr<Tokenizer> load(std::string_view modelProto, std::string &error);

  int64_t size() const;
  /// The ids of `text`; special and added tokens written in the text become their own ids.
  std::vector<int32_t> encode(std::string_view text) const;
  /// The bytes token `id` stands for (possibly part of a UTF-8 character).
  std::string tokenBytes(int32_t id) const;
  /// The text of `ids`; invalid UTF-8 from byte pieces becomes U+FFFD.
  std::string decode(const std::vector<int32_t> &ids) const;
  /// The id of a token written exactly as `text` (e.g. "<turn|>"), or -1.
  int32_t find(std::string_view text) const;

private:
  Tokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

/// Turns a stream of bytes into complete UTF-8 characters: push() returns what can be printed
/// now, finish() what is left (an unfinished character becomes U+FFFD).
class Utf8Stream {
public:
  std::string push(std::string_view bytes);
  std::string finish();

private:
  std::string pending_;
};

} // namespace gemc
