//===- TokenizerImport.cpp - tokenizer.json to a SentencePiece model ------===//

#include "frontends/TokenizerImport.h"

#include "runtime/common/Error.h"
#include "frontends/JsonFields.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <sentencepiece_processor.h>

#include <cstring>
#include <optional>
#include <vector>

namespace gemc {
namespace {

/// The few protobuf wire-format writes a ModelProto needs (sentencepiece_model.proto field
/// numbers); no protobuf library is involved.
class ProtoWriter {
public:
  void varint(uint64_t value) {
    for (; value >= 0x80; value >>= 7)
      out_.push_back(char(value | 0x80));
    out_.push_back(char(value));
  }
  void integer(int field, int64_t value) { // int32/enum/bool: negatives sign-extend to 64 bits
    varint(uint64_t(field) << 3);
    varint(uint64_t(value));
  }
  void bytes(int field, llvm::StringRef value) {
    varint(uint64_t(field) << 3 | 2);
    varint(value.size());
    out_.append(value.data(), value.size());
  }
  void f32(int field, float value) {
    varint(uint64_t(field) << 3 | 5);
    char raw[4];
    std::memcpy(raw, &value, 4); // little-endian hosts only, like the rest of gemc
    out_.append(raw, 4);
  }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

enum PieceType { Normal = 1, Unknown = 2, UserDefined = 4, Byte = 6 };
enum ModelType { Bpe = 2 };

struct Piece {
  std::string text;
  float score = 0;
  PieceType type = Normal;
  bool present = false;
};

/// What the tokenizer.json asks of the normalizer; anything else is rejected.
struct Normalization {
  bool escapeWhitespace = false; // Replace " " -> "▁"
  bool dummyPrefix = false;      // Prepend "▁"
};

constexpr llvm::StringLiteral kSpaceSymbol = "\xE2\x96\x81"; // U+2581

bool isReplaceSpace(const llvm::json::Object &n) {
  const llvm::json::Object *pattern = n.getObject("pattern");
  return n.getString("type") == "Replace" && pattern && pattern->getString("String") == " " &&
         n.getString("content") == kSpaceSymbol;
}

llvm::Error readNormalizer(const llvm::json::Value *value, const std::string &path,
                           Normalization &out) {
  if (!value || value->kind() == llvm::json::Value::Null)
    return llvm::Error::success();
  const llvm::json::Object *object = value->getAsObject();
  std::vector<const llvm::json::Object *> steps{object};
  if (object && object->getString("type") == "Sequence") {
    steps.clear();
    if (const llvm::json::Array *list = object->getArray("normalizers"))
      for (const llvm::json::Value &step : *list)
        steps.push_back(step.getAsObject());
  }
  for (const llvm::json::Object *step : steps) {
    if (step && isReplaceSpace(*step))
      out.escapeWhitespace = true;
    else if (step && step->getString("type") == "Prepend" &&
             step->getString("prepend") == kSpaceSymbol)
      out.dummyPrefix = true;
    else
      return makeError("{}: normalizer: only Replace(\" \" -> \"\u2581\") and Prepend(\"\u2581\") "
                       "are supported (SentencePiece-style BPE)",
                       path);
  }
  return llvm::Error::success();
}

/// A Split on " " after the space-escaping normalizer never matches, so it changes nothing.
llvm::Error checkPreTokenizer(const llvm::json::Value *value, const std::string &path) {
  if (!value || value->kind() == llvm::json::Value::Null)
    return llvm::Error::success();
  const llvm::json::Object *object = value->getAsObject();
  const llvm::json::Object *pattern = object ? object->getObject("pattern") : nullptr;
  if (object && object->getString("type") == "Split" && pattern &&
      pattern->getString("String") == " ")
    return llvm::Error::success();
  return makeError("{}: pre_tokenizer: only none or Split on \" \" is supported "
                   "(SentencePiece-style BPE, not byte-level BPE)",
                   path);
}

bool isBytePiece(llvm::StringRef text) {
  return text.size() == 6 && text.starts_with("<0x") && text.ends_with(">") &&
         llvm::isHexDigit(text[3]) && llvm::isHexDigit(text[4]);
}

/// Places `text` at `id` (within `pieces`), rejecting two texts for one id.
llvm::Error place(std::vector<Piece> &pieces, int64_t id, llvm::StringRef text,
                  const std::string &where) {
  Piece &piece = pieces[id];
  if (piece.present && piece.text != text)
    return makeError("{}: id {} is both '{}' and '{}'", where, id, piece.text, text.str());
  if (text.empty())
    return makeError("{}: id {} is an empty token", where, id);
  piece.text = text.str();
  piece.present = true;
  return llvm::Error::success();
}

/// Splits one merges entry: ["a", "b"] or the older "a b".
std::optional<std::pair<llvm::StringRef, llvm::StringRef>> mergeParts(const llvm::json::Value &m) {
  if (const llvm::json::Array *pair = m.getAsArray()) {
    if (pair->size() != 2 || !(*pair)[0].getAsString() || !(*pair)[1].getAsString())
      return std::nullopt;
    return std::make_pair(*(*pair)[0].getAsString(), *(*pair)[1].getAsString());
  }
  std::optional<llvm::StringRef> text = m.getAsString();
  if (!text || text->count(' ') != 1)
    return std::nullopt;
  return text->split(' ');
}

/// Scores every piece a merge produces with minus the rank of its first merge.
llvm::Error scoreMerges(const llvm::json::Array &merges, const llvm::StringMap<int64_t> &ids,
                        std::vector<Piece> &pieces, const std::string &path) {
  std::vector<bool> scored(pieces.size(), false);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    auto parts = mergeParts(merges[rank]);
    if (!parts)
      return makeError("{}: model.merges[{}]: expected [\"left\", \"right\"]", path, rank);
    auto merged = ids.find((parts->first + parts->second).str());
    if (!ids.contains(parts->first) || !ids.contains(parts->second) || merged == ids.end())
      return makeError("{}: model.merges[{}]: '{}' + '{}' is not made of vocabulary tokens",
                       path, rank, parts->first.str(), parts->second.str());
    if (!scored[merged->second]) {
      scored[merged->second] = true;
      pieces[merged->second].score = -float(rank);
    }
  }
  return llvm::Error::success();
}

using IdAndText = std::pair<int64_t, llvm::StringRef>;

/// model.vocab's entries sorted by id, then text (so that errors do not depend on hashing).
llvm::Expected<std::vector<IdAndText>> sortedVocab(const llvm::json::Object &vocab,
                                                   const std::string &path) {
  std::vector<IdAndText> sorted;
  for (const auto &[text, id] : vocab) {
    std::optional<int64_t> value = id.getAsInteger();
    if (!value || *value < 0 || *value >= (int64_t(1) << 31))
      return makeError("{}: model.vocab['{}']: expected an id in [0, 2^31)", path, text.str());
    sorted.emplace_back(*value, text);
  }
  llvm::sort(sorted);
  return sorted;
}

/// The number of ids that run from 0 without a gap over model.vocab and added_tokens. Ids past
/// it may only be added tokens (the media placeholders of a reduced vocabulary, e.g. <|image|>
/// at 258880 after 516 tokens): they stay outside the SentencePiece model.
llvm::Expected<int64_t> contiguousIds(const std::vector<IdAndText> &vocab,
                                      const llvm::StringMap<int64_t> &addedIds,
                                      const std::string &path) {
  std::vector<int64_t> ids;
  for (const auto &[id, text] : vocab)
    ids.push_back(id);
  for (const auto &added : addedIds)
    ids.push_back(added.second);
  llvm::sort(ids);
  int64_t size = 0;
  for (int64_t id : ids)
    size += id == size;
  for (const auto &[id, text] : vocab)
    if (id > size && !addedIds.contains(text))
      return makeError("{}: model.vocab['{}']: id {} lies past a gap (no token has id {}); only "
                       "added tokens may",
                       path, text.str(), id, size);
  return size;
}

/// Reads added_tokens into `addedIds` (text -> id), checking each entry's shape.
llvm::Error readAddedIds(const llvm::json::Array *added, const llvm::json::Object &vocab,
                         const std::string &path, llvm::StringMap<int64_t> &addedIds) {
  for (size_t i = 0; added && i < added->size(); ++i) {
    std::string where = fmt::format("{}: added_tokens[{}]", path, i);
    const llvm::json::Object *token = (*added)[i].getAsObject();
    std::optional<int64_t> id = token ? token->getInteger("id") : std::nullopt;
    std::optional<llvm::StringRef> content = token ? token->getString("content") : std::nullopt;
    if (!id || !content)
      return makeError("{}: expected an object with an integer 'id' and a string 'content'", where);
    if (*id < 0 || *id >= (int64_t(1) << 31))
      return makeError("{}: id {} is out of range", where, *id);
    std::optional<int64_t> inVocab = vocab.getInteger(*content);
    if (inVocab && *inVocab != *id)
      return makeError("{}: '{}' has id {} here but {} in model.vocab", where, content->str(), *id,
                       *inVocab);
    auto [it, inserted] = addedIds.try_emplace(*content, *id);
    if (!inserted && it->second != *id)
      return makeError("{}: '{}' has id {} here but {} in an earlier entry", where,
                       content->str(), *id, it->second);
  }
  return llvm::Error::success();
}

/// Reads model.vocab and added_tokens into `pieces`, typed for sentencepiece. Added tokens past
/// the contiguous ids are left out (contiguousIds).
llvm::Error readPieces(const llvm::json::Object &model, const llvm::json::Array *added,
                       const std::string &path, std::vector<Piece> &pieces,
                       llvm::StringMap<int64_t> &ids) {
  const llvm::json::Object *vocab = model.getObject("vocab");
  if (!vocab || vocab->empty())
    return makeError("{}: model.vocab: expected an object of token -> id", path);
  llvm::StringMap<int64_t> addedIds;
  if (auto error = readAddedIds(added, *vocab, path, addedIds))
    return error;
  llvm::Expected<std::vector<IdAndText>> entries = sortedVocab(*vocab, path);
  if (!entries)
    return entries.takeError();
  llvm::Expected<int64_t> size = contiguousIds(*entries, addedIds, path);
  if (!size)
    return size.takeError();
  pieces.assign(size_t(*size), Piece());
  for (const auto &[id, text] : *entries) {
    if (id >= *size)
      continue;
    if (auto error = place(pieces, id, text, path + ": model.vocab"))
      return error;
    ids[text] = id;
  }
  for (size_t i = 0; added && i < added->size(); ++i) {
    const llvm::json::Object &token = *(*added)[i].getAsObject();
    int64_t id = *token.getInteger("id");
    llvm::StringRef content = *token.getString("content");
    if (id >= *size)
      continue;
    if (auto error = place(pieces, id, content, fmt::format("{}: added_tokens[{}]", path, i)))
      return error;
    ids[content] = id;
    if (!content.contains(kSpaceSymbol))
      pieces[id].type = UserDefined;
  }
  return llvm::Error::success();
}

std::string serialize(const std::vector<Piece> &pieces, const Normalization &normalization,
                      int64_t unkId, bool byteFallback) {
  ProtoWriter trainer;
  trainer.integer(3, Bpe);                      // model_type
  trainer.integer(4, int64_t(pieces.size()));   // vocab_size
  trainer.integer(35, byteFallback);            // byte_fallback
  trainer.integer(40, unkId);                   // unk_id
  trainer.integer(41, -1);                      // bos_id: the runtime adds BOS itself
  trainer.integer(42, -1);                      // eos_id
  trainer.integer(43, -1);                      // pad_id
  trainer.bytes(45, pieces[unkId].text);        // unk_piece
  ProtoWriter normalizer;
  normalizer.bytes(1, "identity");              // name
  normalizer.integer(3, normalization.dummyPrefix);      // add_dummy_prefix
  normalizer.integer(4, false);                          // remove_extra_whitespaces
  normalizer.integer(5, normalization.escapeWhitespace); // escape_whitespaces
  ProtoWriter model;
  for (const Piece &piece : pieces) {
    ProtoWriter entry;
    entry.bytes(1, piece.text);
    entry.f32(2, piece.score);
    entry.integer(3, piece.type);
    model.bytes(1, entry.take());
  }
  model.bytes(2, trainer.take());
  model.bytes(3, normalizer.take());
  return model.take();
}

llvm::Error checkLoads(const std::string &proto, const std::string &path) {
  sentencepiece::SentencePieceProcessor processor;
  sentencepiece::util::Status status = processor.LoadFromSerializedProto(proto);
  if (!status.ok())
    return makeError("{}: not a usable SentencePiece model: {}", path, status.ToString());
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::string> convertTokenizerJson(llvm::StringRef json, const std::string &path) {
  llvm::Expected<llvm::json::Value> root = parseJsonStrictly(json);
  if (!root)
    return makeError("{}: not valid JSON: {}", path, llvm::toString(root.takeError()));
  const llvm::json::Object *object = root->getAsObject();
  const llvm::json::Object *model = object ? object->getObject("model") : nullptr;
  if (!model)
    return makeError("{}: model: expected an object", path);
  if (model->getString("type") != "BPE")
    return makeError("{}: model.type: expected \"BPE\" (Gemma's SentencePiece-style BPE), found {}",
                     path, model->getString("type").value_or("none").str());
  Normalization normalization;
  if (auto error = readNormalizer(object->get("normalizer"), path, normalization))
    return error;
  if (auto error = checkPreTokenizer(object->get("pre_tokenizer"), path))
    return error;
  std::vector<Piece> pieces;
  llvm::StringMap<int64_t> ids;
  if (auto error = readPieces(*model, object->getArray("added_tokens"), path, pieces, ids))
    return error;
  const llvm::json::Array *merges = model->getArray("merges");
  if (!merges)
    return makeError("{}: model.merges: expected an array", path);
  if (auto error = scoreMerges(*merges, ids, pieces, path))
    return error;

  std::optional<llvm::StringRef> unk = model->getString("unk_token");
  if (!unk || !ids.contains(*unk))
    return makeError("{}: model.unk_token: expected the text of a vocabulary token", path);
  int64_t unkId = ids.lookup(*unk);
  pieces[unkId].type = Unknown;
  bool byteFallback = model->getBoolean("byte_fallback").value_or(false);
  for (Piece &piece : pieces)
    if (byteFallback && isBytePiece(piece.text) && piece.type == Normal)
      piece.type = Byte;
  std::string proto = serialize(pieces, normalization, unkId, byteFallback);
  if (auto error = checkLoads(proto, path))
    return error;
  return proto;
}

bool hasTokenizer(const std::string &dir) {
  for (const char *name : {"tokenizer.json", "tokenizer.model"})
    if (llvm::sys::fs::exists(dir + "/" + name))
      return true;
  return false;
}

llvm::Expected<std::string> importTokenizer(const std::string &path) {
  std::string file = path;
  if (llvm::sys::fs::is_directory(path)) {
    file = path + "/tokenizer.json";
    if (!llvm::sys::fs::exists(file))
      file = path + "/tokenizer.model";
    if (!llvm::sys::fs::exists(file))
      return makeError("{}: no tokenizer.json or tokenizer.model", path);
  }
  auto buffer = llvm::MemoryBuffer::getFile(file);
  if (!buffer)
    return makeError("{}: cannot open: {}", file, buffer.getError().message());
  if (llvm::sys::path::extension(file) == ".json")
    return convertTokenizerJson((*buffer)->getBuffer(), file);
  std::string proto = (*buffer)->getBuffer().str();
  if (auto error = checkLoads(proto, file))
    return error;
  return proto;
}

} // namespace gemc
