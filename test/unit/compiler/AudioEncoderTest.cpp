//===- AudioEncoderTest.cpp - The audio tower in the reference interpreter ===//
//
// refdata/audio-tiny: importAudioEncoder's encode_audio, run by the interpreter on the clip's
// valid log-mel frames, gives Transformers' projected soft tokens (the valid rows of
// audio_embeds.f32), from the extractor's features and from the WAV file through the runtime's
// own feature extraction.

#include "compiler/import/ImportCheckpoint.h"
#include "dialects/gemma/GemmaDialect.h"
#include "dialects/gemma/interpreter/Interpreter.h"
#include "runtime/media/Audio.h"
#include "test/unit/NumericCompare.h"
#include "test/unit/runtime/media/MediaFiles.h"

#include <gtest/gtest.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/IR/Verifier.h>

namespace gemc {
namespace {

constexpr int64_t kMels = 128, kWidth = 64;

class AudioEncoderTest : public ::testing::Test {
protected:
  AudioEncoderTest() {
    mlir::DialectRegistry registry;
    gemma::registerModuleDialects(registry);
    context_.appendDialectRegistry(registry);
    context_.loadAllAvailableDialects();
  }

  /// The soft tokens of `frames` valid frames of `features`, by the interpreter.
  std::vector<float> encode(const std::vector<float> &features, int64_t frames) {
    llvm::Expected<Checkpoint> checkpoint =
        Checkpoint::open(std::string(GEMC_TEST_DATA_DIR) + "/refdata/audio-tiny");
    EXPECT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
    mlir::OwningOpRef<mlir::ModuleOp> module = importAudioEncoder(context_, *checkpoint);
    EXPECT_TRUE(mlir::succeeded(mlir::verify(*module)));
    gemma::Tensor input({frames, kMels});
    std::copy_n(features.begin(), frames * kMels, input.data.begin());
    llvm::Expected<gemma::Tensor> tokens = gemma::Interpreter::encodeAudio(
        module->lookupSymbol<mlir::func::FuncOp>("encode_audio"),
        [&](llvm::StringRef name) { return viewOf(checkpoint->find(name)); }, input);
    EXPECT_TRUE(bool(tokens)) << llvm::toString(tokens.takeError());
    return tokens ? tokens->data : std::vector<float>();
  }

  /// The rows of audio_embeds.f32 that the output mask keeps.
  static std::vector<float> expectedTokens() {
    std::vector<float> all = test::refdataArray<float>("audio-tiny/audio_embeds.f32");
    std::vector<uint8_t> mask = test::refdataArray<uint8_t>("audio-tiny/audio_output_mask.u8");
    std::vector<float> kept;
    for (size_t t = 0; t < mask.size(); ++t)
      if (mask[t])
        kept.insert(kept.end(), all.begin() + t * kWidth, all.begin() + (t + 1) * kWidth);
    return kept;
  }

  mlir::MLIRContext context_;
};

TEST_F(AudioEncoderTest, SoftTokensFromTheExtractorsFeatures) {
  std::vector<float> features = test::refdataArray<float>("audio-tiny/input_features.f32");
  std::vector<uint8_t> mask = test::refdataArray<uint8_t>("audio-tiny/input_features_mask.u8");
  int64_t valid = std::count(mask.begin(), mask.end(), uint8_t(1));
  EXPECT_TRUE(test::allClose(encode(features, valid), expectedTokens(), 1e-4));
}

TEST_F(AudioEncoderTest, SoftTokensFromTheWavFile) {
  std::vector<uint8_t> bytes = test::refdataBytes("audio-tiny/audio.wav");
  std::vector<float> samples;
  std::string error;
  ASSERT_TRUE(readWav(bytes.data(), bytes.size(), "audio.wav", samples, error)) << error;
  AudioFeatures features = logMelFeatures(samples);
  int64_t valid = std::count(features.mask.begin(), features.mask.end(), uint8_t(1));
  std::vector<float> tokens = encode(features.values, valid);
  EXPECT_EQ(int64_t(tokens.size()) / kWidth, audioSoftTokens(features.mask));
  EXPECT_TRUE(test::allClose(tokens, expectedTokens(), 1e-4));
}

} // namespace
} // namespace gemc
