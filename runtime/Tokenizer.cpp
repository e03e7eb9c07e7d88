//===- Tokenizer.cpp - Text to token ids and back, with sentencepiece ----===//

#include "runtime/Tokenizer.h"

#ifndef GEMC_NO_SENTENCEPIECE
#include <sentencepiece_processor.h>
#else
namespace sentencepiece {
class SentencePieceProcessor {}; // never instantiated in this build; see below
} // namespace sentencepiece
#endif

namespace gemc {

#ifndef GEMC_NO_SENTENCEPIECE
bool Tokenizer::available() { return true; }
Tokenizer::Tokenizer() : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::load(std::string_view modelProto, std::string &error) {
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  sentencepiece::util::Status status =
      tokenizer->processor_->LoadFromSerializedProto({modelProto.data(), modelProto.size()});
  if (!status.ok()) {
    error = "the tokenizer is not a usable SentencePiece model: " + status.ToString();
    return nullptr;
  }
  return tokenizer;
}

int64_t Tokenizer::size() const { return processor_->GetPieceSize(); }

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  processor_->Encode({text.data(), text.size()}, &ids).IgnoreError(); // fails only unloaded
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::tokenBytes(int32_t id) const {
  if (id < 0 || id >= size())
    return {};
  const std::string &piece = processor_->IdToPiece(id);
  if (processor_->IsByte(id))
    return std::string(1, char(std::stoi(piece.substr(3, 2), nullptr, 16)));
  std::string text;
  static constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";
  for (size_t at = 0; at < piece.size();) {
    if (piece.compare(at, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
      text += ' ';
      at += kSpaceSymbol.size();
    } else {
      text += piece[at++];
    }
  }
  return text;
}

int32_t Tokenizer::find(std::string_view text) const {
  int id = processor_->PieceToId({text.data(), text.size()});
  return processor_->IdToPiece(id) == text ? id : -1;
}

#else
// Built without sentencepiece (the aarch64 cross build of gemc-run: Debian has no arm64
// sentencepiece for the cross toolchain). No Tokenizer can be made, so artifacts run from token
// ids only, and load() says why.
bool Tokenizer::available() { return false; }
Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
std::unique_ptr<Tokenizer> Tokenizer::load(std::string_view, std::string &error) {
  error = "this build of the runtime has no sentencepiece, so it cannot use the artifact's "
          "tokenizer: pass token ids";
  return nullptr;
}
int64_t Tokenizer::size() const { return 0; }
std::vector<int32_t> Tokenizer::encode(std::string_view) const { return {}; }
std::string Tokenizer::tokenBytes(int32_t) const { return {}; }
int32_t Tokenizer::find(std::string_view) const { return -1; }

#endif

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  Utf8Stream stream;
  std::string text;
  for (int32_t id : ids)
    text += stream.push(tokenBytes(id));
  return text + stream.finish();
}

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD

/// The length of the UTF-8 character starting with `lead`, or 0 if it cannot start one.
size_t sequenceLength(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

/// Whether `second` may follow `lead` (the ranges that exclude overlong forms, surrogates and
/// code points past U+10FFFF), or for later bytes, is a continuation byte.
bool validNext(unsigned char lead, size_t index, unsigned char byte) {
  if ((byte & 0xC0) != 0x80)
    return false;
  if (index != 1)
    return true;
  switch (lead) {
  case 0xE0: return byte >= 0xA0;
  case 0xED: return byte <= 0x9F;
  case 0xF0: return byte >= 0x90;
  case 0xF4: return byte <= 0x8F;
  default: return true;
  }
}

} // namespace

std::string Utf8Stream::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t at = 0;
  while (at < pending_.size()) {
    unsigned char lead = pending_[at];
    size_t length = sequenceLength(lead), valid = length ? 1 : 0;
    while (valid && valid < length && at + valid < pending_.size() &&
           validNext(lead, valid, pending_[at + valid]))
      ++valid;
    if (length && valid == length) {
      out.append(pending_, at, length);
      at += length;
    } else if (length && at + valid == pending_.size()) {
      break; // a character still being spelled out: wait for its next bytes
    } else {
      out += kReplacement; // one replacement per maximal invalid prefix, as WHATWG decoders do
      at += valid ? valid : 1;
    }
  }
  pending_.erase(0, at);
  return out;
}

std::string Utf8Stream::finish() {
  std::string out = pending_.empty() ? "" : std::string(kReplacement);
  pending_.clear();
  return out;
}

} // namespace gemc
