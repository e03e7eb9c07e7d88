//===- TextSessionTest.cpp - Generation and chat over a compiled artifact ---===//
//
// A chat keeps its KV cache across turns and evaluates only the new turn; the reference is a
// fresh session that evaluates the whole token sequence at once: the last logits must agree.

#include "runtime/TextSession.h"

#include "../NumericCompare.h"
#include "compiler/driver/CompileCheckpoint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

namespace gemc {
namespace {

/// The e2b-tiny refdata checkpoint compiled for the host, once; removed at exit.
struct CompiledArtifact {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("gemc-text-session-" + std::to_string(getpid()) + ".gemc"))
                         .string();
  CompiledArtifact() {
    CompileOptions options;
    options.checkpoint = std::string(GEMC_TEST_DATA_DIR) + "/refdata/e2b-tiny";
    options.output = path;
    llvm::Expected<CompileReport> report = compileCheckpoint(options);
    EXPECT_TRUE(bool(report)) << llvm::toString(report.takeError());
  }
  ~CompiledArtifact() { std::filesystem::remove(path); }
};

const std::string &artifact() {
  static CompiledArtifact compiled;
  return compiled.path;
}

struct Opened {
  gemc_model *model = nullptr;
  gemc_session *session = nullptr;
  explicit Opened(int64_t context) {
    EXPECT_EQ(gemc_model_open(artifact().c_str(), &model), GEMC_OK) << gemc_last_error();
    if (model) {
      EXPECT_EQ(gemc_session_create(model, context, 2, &session), GEMC_OK) << gemc_last_error();
    }
  }
  ~Opened() {
    gemc_session_free(session);
    gemc_model_free(model);
  }
};

TEST(TextSessionTest, ChatTurnsReuseTheCacheExactly) {
  Opened live(512);
  ASSERT_TRUE(live.session);
  const Tokenizer *tokenizer = artifactTokenizer(live.model);
  ASSERT_TRUE(tokenizer);
  TextSession chat(live.session, tokenizer, artifactStopIds(live.model));
  Sampler greedy({});
  std::string error;
  StopReason reason;
  auto ignore = [](int32_t, std::string_view) { return true; };
  ChatVariant variant = artifactChatVariant(live.model);
  ASSERT_EQ(chat.feedChatTurn("Be brief.", "Hello there", false, variant, error), GEMC_OK) << error;
  ASSERT_EQ(chat.generate(6, greedy, ignore, reason, error), GEMC_OK) << error;
  ASSERT_EQ(chat.feedChatTurn("", "Tell me more", false, variant, error), GEMC_OK) << error;
  int64_t vocab = gemc_model_vocab_size(live.model);
  std::vector<float> logits(gemc_session_logits(live.session),
                            gemc_session_logits(live.session) + vocab);
  std::vector<int32_t> tokens = chat.tokens();
  EXPECT_EQ(int64_t(tokens.size()), gemc_session_position(live.session));
  EXPECT_EQ(tokens.front(), tokenizer->find("<bos>"));

  Opened fresh(512);
  ASSERT_EQ(gemc_session_prefill(fresh.session, tokens.data(), int64_t(tokens.size()), nullptr),
            GEMC_OK);
  std::span<const float> reference(gemc_session_logits(fresh.session), size_t(vocab));
  // Token by token and in one chunk, the kernels sum in different orders (f32 rounding, about
  // 1e-5 here); a cache that lost or misplaced a turn would be off by whole units.
  EXPECT_TRUE(test::allClose(logits, reference, 1e-4));
}

int stopAfterTwo(const char *, size_t, void *user) { return ++*static_cast<int *>(user) >= 2; }

TEST(TextSessionTest, CallbackStopsGenerationAndContextOverflowIsAnError) {
  Opened opened(16);
  ASSERT_TRUE(opened.session);
  gemc_sampling sampling;
  gemc_model_sampling_defaults(opened.model, &sampling);
  int calls = 0;
  EXPECT_EQ(gemc_session_generate(opened.session, "Rain fell", 10, &sampling, stopAfterTwo, &calls),
            GEMC_OK);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(gemc_session_generate(opened.session, std::string(200, 'x').c_str(), 1, &sampling,
                                  nullptr, nullptr),
            GEMC_ERROR_CONTEXT);
  EXPECT_NE(std::string(gemc_last_error()).find("does not fit the context"), std::string::npos);
}

} // namespace
} // namespace gemc

namespace gemc {
namespace {

TEST(TextSessionTest, CApiRendersChatsInTheModelsTemplate) {
  Opened opened(16);
  ASSERT_TRUE(opened.model);
  const char *request = R"({"messages": [{"role": "user", "content": " Hi "}],
                            "add_generation_prompt": true})";
  const std::string expected = "<bos><|turn>user\nHi<turn|>\n<|turn>model\n"; // e2b-tiny: E-series
  size_t size = 0;
  ASSERT_EQ(gemc_model_render_chat(opened.model, request, nullptr, 0, &size), GEMC_OK);
  EXPECT_EQ(size, expected.size());
  std::vector<char> full(size + 1), cut(8);
  ASSERT_EQ(gemc_model_render_chat(opened.model, request, full.data(), full.size(), &size),
            GEMC_OK);
  EXPECT_EQ(std::string(full.data()), expected);
  ASSERT_EQ(gemc_model_render_chat(opened.model, request, cut.data(), cut.size(), &size), GEMC_OK);
  EXPECT_EQ(std::string(cut.data()), expected.substr(0, 7));
  EXPECT_EQ(gemc_model_render_chat(opened.model, "{\"messages\": [", nullptr, 0, &size),
            GEMC_ERROR_ARGUMENT);
  EXPECT_NE(std::string(gemc_last_error()).find("not valid JSON"), std::string::npos);
}

} // namespace
} // namespace gemc
