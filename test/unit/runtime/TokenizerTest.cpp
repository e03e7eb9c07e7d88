//===- TokenizerTest.cpp - tokenizer.json import and the runtime tokenizer -===//
//
// References: llama.cpp's tokenization of each refdata prompt (prompt.json), and for the real
// 262k-entry Gemma tokenizer the encodings an independent implementation produced
// (../shared/tokenizers/gemma3/encode-cases.json; skipped where ../shared is absent).

#include "frontends/TokenizerImport.h"
#include "runtime/Json.h"
#include "runtime/Tokenizer.h"

#include <gtest/gtest.h>
#include <llvm/Support/MemoryBuffer.h>

#include <chrono>
#include <filesystem>

namespace gemc {
namespace {

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  return buffer ? (*buffer)->getBuffer().str() : "";
}

JsonValue readJson(const std::string &path) {
  JsonValue value;
  std::string error;
  EXPECT_TRUE(parseJson(readFile(path), value, error)) << path << ": " << error;
  return value;
}

std::unique_ptr<Tokenizer> loadTokenizer(const std::string &path) {
  llvm::Expected<std::string> proto = importTokenizer(path);
  if (!proto) {
    ADD_FAILURE() << llvm::toString(proto.takeError());
    return nullptr;
  }
  std::string error;
  std::unique_ptr<Tokenizer> tokenizer = Tokenizer::load(*proto, error);
  EXPECT_TRUE(tokenizer) << error;
  return tokenizer;
}

std::vector<int32_t> ids(const JsonValue &list) {
  std::vector<int32_t> out;
  for (const JsonValue &item : list.items)
    out.push_back(std::stoi(item.text));
  return out;
}

TEST(TokenizerTest, RefdataPromptsMatchLlamaCpp) {
  for (const char *name : {"e2b-tiny", "dense-tiny", "moe-tiny"}) {
    std::string dir = std::string(GEMC_TEST_DATA_DIR) + "/refdata/" + name;
    std::unique_ptr<Tokenizer> tokenizer = loadTokenizer(dir);
    ASSERT_TRUE(tokenizer);
    JsonValue prompt = readJson(dir + "/prompt.json");
    std::vector<int32_t> expected = ids(*prompt.get("tokens"));
    std::vector<int32_t> got = tokenizer->encode(prompt.get("text")->text);
    got.insert(got.begin(), tokenizer->find("<bos>"));
    // llama.cpp's list is the first 24; Hugging Face tokenizers 0.23.3 gives the last 4.
    expected.insert(expected.end(), {295, 289, 291, 266});
    EXPECT_EQ(got, expected) << name;
  }
}

TEST(TokenizerTest, SpecialTokensAreWholeAndTextRoundTrips) {
  std::unique_ptr<Tokenizer> tokenizer =
      loadTokenizer(std::string(GEMC_TEST_DATA_DIR) + "/refdata/e2b-tiny/tokenizer.json");
  ASSERT_TRUE(tokenizer);
  int32_t turn = tokenizer->find("<|turn>"), end = tokenizer->find("<turn|>");
  ASSERT_GE(turn, 0);
  ASSERT_EQ(turn, 5);
  ASSERT_EQ(end, 6);
  // Hugging Face tokenizers 0.23.3: <|turn>, "u" "s" "er", <0x0A>, "hi", <turn|>.
  EXPECT_EQ(tokenizer->encode("<|turn>user\nhi<turn|>"),
            (std::vector<int32_t>{5, 307, 305, 363, 18, 407, 6}));
  // Byte fallback spells characters missing from the 512-entry vocabulary.
  for (const char *text : {"Rain fell on the river.", "  two  spaces", "emoji \xF0\x9F\x98\x80!",
                           "\xE6\x97\xA5\xE6\x9C\xAC", "tab\there\nnewline"})
    EXPECT_EQ(tokenizer->decode(tokenizer->encode(text)), text) << text;
}

TEST(TokenizerTest, Utf8StreamHoldsBackUnfinishedCharacters) {
  Utf8Stream stream;
  EXPECT_EQ(stream.push("a\xF0\x9F"), "a"); // half of U+1F600
  EXPECT_EQ(stream.push("\x98"), "");
  EXPECT_EQ(stream.push("\x80z"), "\xF0\x9F\x98\x80z");
  EXPECT_EQ(stream.push("\xFF" "b"), "\xEF\xBF\xBD" "b"); // never valid
  EXPECT_EQ(stream.push("\xE6\x97"), "");
  EXPECT_EQ(stream.push("x"), "\xEF\xBF\xBDx"); // broken off: one replacement
  EXPECT_EQ(stream.push("\xC3"), "");
  EXPECT_EQ(stream.finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(stream.push("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // a surrogate
}

TEST(TokenizerTest, Gemma3TokenizerReproducesReferenceEncodings) {
  std::string dir = std::string(GEMC_SOURCE_DIR) + "/../shared/tokenizers/gemma3";
  if (!std::filesystem::exists(dir + "/encode-cases.json"))
    GTEST_SKIP() << dir << " is not here";
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Tokenizer> tokenizer = loadTokenizer(dir + "/tokenizer.json");
  ASSERT_TRUE(tokenizer);
  double loadSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  JsonValue cases = readJson(dir + "/encode-cases.json");
  ASSERT_GE(cases.items.size(), 30u);
  std::string all;
  for (const JsonValue &c : cases.items) {
    const std::string &text = c.get("text")->text;
    std::vector<int32_t> got = tokenizer->encode(text);
    EXPECT_EQ(got, ids(*c.get("ids"))) << text;
    EXPECT_EQ(tokenizer->decode(got), text);
    all += text + "\n";
  }
  // Speed, for the record (not asserted): every case 200 times over, as one text.
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += all;
  start = std::chrono::steady_clock::now();
  size_t count = tokenizer->encode(text).size();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("gemma3 tokenizer (%lld pieces): converted and loaded in %.2f s; encoded %zu bytes "
              "into %zu tokens in %.3f s (%.2f MB/s)\n",
              (long long)tokenizer->size(), loadSeconds, text.size(), count, seconds,
              double(text.size()) / seconds / 1e6);
}

} // namespace
} // namespace gemc
