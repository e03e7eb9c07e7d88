//===- MediaConfigTest.cpp - vision_config, audio_config and the media ids --===//

#include "frontends/MediaConfig.h"

#include <gtest/gtest.h>

namespace gemc {
namespace {

MediaConfig load(const std::string &name) {
  llvm::Expected<MediaConfig> config =
      MediaConfig::load(std::string(GEMC_TEST_DATA_DIR) + "/refdata/" + name, 516);
  EXPECT_TRUE(bool(config)) << (config ? "" : llvm::toString(config.takeError()));
  return config ? *config : MediaConfig();
}

TEST(MediaConfigTest, VisionTinyAsItsReadmeDescribesIt) {
  MediaConfig m = load("vision-tiny");
  ASSERT_TRUE(m.vision);
  EXPECT_FALSE(m.audio);
  const VisionConfig &v = *m.vision;
  EXPECT_EQ(v.hiddenSize, 48);
  EXPECT_EQ(v.numLayers, 2);
  EXPECT_EQ(v.numHeads, 3);
  EXPECT_EQ(v.headDim, 16);
  EXPECT_EQ(v.intermediateSize, 96);
  EXPECT_EQ(v.positionEmbeddingSize, 128);
  EXPECT_EQ(v.ropeTheta, 100.0);
  EXPECT_TRUE(v.useClippedLinears);
  EXPECT_FALSE(v.standardize);
  EXPECT_EQ(v.defaultSoftTokens, 70); // processor_config.json, not the class default 280
  EXPECT_EQ(m.imageTokenId, 258880);
  EXPECT_EQ(m.boiTokenId, 512);
  EXPECT_EQ(m.eoiTokenId, 513);
}

TEST(MediaConfigTest, AudioTinyAsItsReadmeDescribesIt) {
  MediaConfig m = load("audio-tiny");
  EXPECT_FALSE(m.vision);
  ASSERT_TRUE(m.audio);
  const AudioConfig &a = *m.audio;
  EXPECT_EQ(a.hiddenSize, 32);
  EXPECT_EQ(a.numLayers, 2);
  EXPECT_EQ(a.headDim(), 16);
  EXPECT_EQ(a.subsamplingChannels[1], 8);
  EXPECT_EQ(a.subsampledWidth(), 256);
  EXPECT_EQ(a.chunkSize, 12);
  EXPECT_EQ(a.contextLeft, 13);
  EXPECT_EQ(a.outputProjDims, 48);
  EXPECT_EQ(m.audioTokenId, 258881);
  EXPECT_EQ(m.boaTokenId, 514);
}

TEST(MediaConfigTest, TextOnlyConfigsHaveNoTowers) {
  MediaConfig m = load("e2b-tiny");
  EXPECT_FALSE(m.vision);
  EXPECT_FALSE(m.audio);
}

} // namespace
} // namespace gemc
