//===- TextConfigTest.cpp - config.json fields and derived layer facts -------===//
//
// Expected values are the released variants' facts from gemma4-architecture.md §1.8 and §3.

#include "frontends/TextConfig.h"

#include <gtest/gtest.h>

using namespace gemc;

namespace {

TextConfig parseOrFail(const std::string &json) {
  llvm::Expected<TextConfig> config = TextConfig::parse(json, "config.json");
  if (!config) {
    ADD_FAILURE() << llvm::toString(config.takeError());
    return {};
  }
  return *config;
}

std::string layerTypes(const std::string &pattern, int repeats) {
  std::string out;
  for (int r = 0; r < repeats; ++r)
    for (char c : pattern)
      out += std::string(out.empty() ? "" : ", ") +
             (c == 'F' ? "\"full_attention\"" : "\"sliding_attention\"");
  return "[" + out + "]";
}

} // namespace

TEST(TextConfig, E2BSharesKvFromTheLastNonSharedLayerOfEachType) {
  TextConfig c = parseOrFail(R"({"text_config": {"model_type": "gemma4_text",
      "vocab_size": 262144, "hidden_size": 1536, "intermediate_size": 6144,
      "num_hidden_layers": 35, "num_attention_heads": 8, "num_key_value_heads": 1,
      "head_dim": 256, "global_head_dim": 512, "num_kv_shared_layers": 20,
      "use_double_wide_mlp": true, "layer_types": )" +
                             layerTypes("SSSSF", 7) + "}}");
  EXPECT_EQ(c.firstKvSharedLayer(), 15);
  EXPECT_FALSE(c.layer(14).kvSourceLayer);
  EXPECT_EQ(c.layer(15).kvSourceLayer, 13); // sliding
  EXPECT_EQ(c.layer(19).kvSourceLayer, 14); // full
  EXPECT_EQ(c.layer(34).kvSourceLayer, 14);
  EXPECT_EQ(c.layer(14).mlpWidth, 6144);
  EXPECT_EQ(c.layer(15).mlpWidth, 12288);
  EXPECT_EQ(c.layer(4).headDim, 512);
  EXPECT_EQ(c.layer(3).headDim, 256);
  EXPECT_EQ(c.layer(3).slidingWindow, 512); // class default
  EXPECT_EQ(c.layer(4).slidingWindow, 0);
  EXPECT_EQ(c.layer(4).rope.type, RopeType::Proportional);
  EXPECT_EQ(c.layer(4).rope.theta, 1e6);
  EXPECT_EQ(c.layer(4).rope.partialRotaryFactor, 0.25);
  EXPECT_EQ(c.layer(3).rope.type, RopeType::Default);
  EXPECT_EQ(c.hiddenSizePerLayerInput, 256); // class default: PLE on
}

TEST(TextConfig, KEqVFullLayersUseTheGlobalKvHeads) {
  TextConfig c = parseOrFail(R"({"model_type": "gemma4_text", "vocab_size": 262144,
      "hidden_size": 2816, "intermediate_size": 2112, "num_hidden_layers": 30,
      "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 256,
      "num_global_key_value_heads": 2, "attention_k_eq_v": true, "enable_moe_block": true,
      "num_experts": 128, "top_k_experts": 8, "moe_intermediate_size": 704,
      "hidden_size_per_layer_input": 0, "sliding_window": 1024})");
  EXPECT_EQ(c.layer(5).numKvHeads, 2);
  EXPECT_TRUE(c.layer(5).vFromK);
  EXPECT_EQ(c.layer(4).numKvHeads, 8);
  EXPECT_FALSE(c.layer(4).vFromK);
  EXPECT_FALSE(c.hasPle());
}

TEST(TextConfig, MissingLayerTypesMakeEverySixthAndTheLastLayerFull) {
  TextConfig c = parseOrFail(R"({"text_config": {"vocab_size": 8, "hidden_size": 4,
      "intermediate_size": 8, "num_hidden_layers": 8, "num_attention_heads": 2,
      "num_key_value_heads": 1, "head_dim": 4}})");
  std::vector<LayerType> expected(8, LayerType::Sliding);
  expected[5] = expected[7] = LayerType::Full;
  EXPECT_EQ(c.layerTypes, expected);
}

TEST(TextConfig, NullFieldsTakeDefaultsAndEosMayBeAList) {
  TextConfig c = parseOrFail(R"({"text_config": {"vocab_size": 8, "hidden_size": 4,
      "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
      "num_key_value_heads": 1, "head_dim": 4, "final_logit_softcapping": null,
      "num_experts": null, "eos_token_id": [1, 106]}})");
  EXPECT_FALSE(c.finalLogitSoftcapping);
  EXPECT_EQ(c.numExperts, 0);
  EXPECT_EQ(c.layerTypes, std::vector<LayerType>{LayerType::Full});
  // A list of stop ids is generation_config's business (GenerationConfig reads it); the single
  // eos id keeps its default.
  EXPECT_EQ(c.eosTokenId, 1);
}
