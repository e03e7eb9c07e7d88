//===- QuantConfigTest.cpp - Quantization configs -------------------------===//

#include "compiler/quant/QuantConfig.h"

#include <gtest/gtest.h>

namespace gemc {
namespace {

TensorInfo matrix(std::string name) { return {std::move(name), DType::BF16, {8, 32}}; }

TEST(QuantConfigTest, ClassifiesEveryGemma4Tensor) {
  const std::pair<const char *, TensorClass> names[] = {
      {"model.language_model.embed_tokens.weight", TensorClass::Embedding},
      {"lm_head.weight", TensorClass::LmHead},
      {"model.language_model.embed_tokens_per_layer.weight", TensorClass::PleTable},
      {"model.language_model.per_layer_model_projection.weight", TensorClass::PleProjection},
      {"model.language_model.layers.3.per_layer_input_gate.weight", TensorClass::PleProjection},
      {"model.language_model.layers.3.per_layer_projection.weight", TensorClass::PleProjection},
      {"model.language_model.layers.0.self_attn.q_proj.weight", TensorClass::Attention},
      {"model.language_model.layers.0.self_attn.k_proj.weight", TensorClass::Attention},
      {"model.language_model.layers.0.self_attn.v_proj.weight", TensorClass::Attention},
      {"model.language_model.layers.0.self_attn.o_proj.weight", TensorClass::Attention},
      {"model.language_model.layers.0.mlp.gate_proj.weight", TensorClass::Mlp},
      {"model.language_model.layers.0.mlp.up_proj.weight", TensorClass::Mlp},
      {"model.language_model.layers.0.mlp.down_proj.weight", TensorClass::Mlp},
      {"model.language_model.layers.0.router.proj.weight", TensorClass::MoeRouter},
      {"model.language_model.layers.0.experts.gate_up_proj", TensorClass::Experts},
      {"model.language_model.layers.0.experts.down_proj", TensorClass::Experts},
      {"model.language_model.layers.0.self_attn.q_norm.weight", TensorClass::None},
      {"model.language_model.layers.0.router.scale", TensorClass::None},
      {"model.language_model.norm.weight", TensorClass::None}};
  for (auto [name, expected] : names)
    EXPECT_EQ(classifyTensor(name), expected) << name;
}

TEST(QuantConfigTest, PatternsThenClassesThenDefaultAndVectorsAreKept) {
  llvm::Expected<QuantConfig> config = QuantConfig::parse(R"(
default: q4_0
classes:
  embedding: q8_0
  ple_table: q4_1
patterns:
  "*.layers.0.*": bf16
  "*.layers.*": q8_ch
)",
                                                          "config.yaml");
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  auto format = [&](const char *name) { return config->formatFor(matrix(name)); };
  EXPECT_EQ(format("m.layers.0.mlp.up_proj.weight"), WeightFormat::BF16); // first pattern
  EXPECT_EQ(format("m.layers.1.mlp.up_proj.weight"), WeightFormat::Q8_Ch);
  EXPECT_EQ(format("m.embed_tokens.weight"), WeightFormat::Q8_0);
  EXPECT_EQ(format("m.embed_tokens_per_layer.weight"), WeightFormat::Q4_1);
  EXPECT_EQ(format("m.per_layer_model_projection.weight"), WeightFormat::Q4_0); // default
  TensorInfo norm{"m.layers.0.input_layernorm.weight", DType::BF16, {32}};
  EXPECT_EQ(config->formatFor(norm), std::nullopt);

  llvm::Expected<QuantConfig> json =
      QuantConfig::parse(R"({"classes": {"mlp": "q8_0"}})", "config.json");
  ASSERT_TRUE(bool(json)) << llvm::toString(json.takeError());
  EXPECT_EQ(json->formatFor(matrix("m.layers.2.mlp.down_proj.weight")), WeightFormat::Q8_0);
  EXPECT_EQ(json->formatFor(matrix("m.layers.2.self_attn.q_proj.weight")), std::nullopt);
  EXPECT_EQ(config->activations, ActivationFormat::F32); // f32 unless asked
  EXPECT_EQ(QuantConfig::parse("activations: f32", "c.yaml")->activations, ActivationFormat::F32);
  EXPECT_EQ(QuantConfig::parse("default: q4_0\nactivations: int8", "c.yaml")->activations,
            ActivationFormat::Int8);
  EXPECT_EQ(QuantConfig::parse("activations: bf16", "c.yaml")->activations,
            ActivationFormat::BF16);
}

TEST(QuantConfigTest, BrokenConfigsSayWhatAndWhere) {
  const std::pair<const char *, const char *> cases[] = {
      {"classes: {mlpp: q4_0}", "config.yaml:1:11: classes: unknown tensor class 'mlpp' "
                                "(expected one of embedding, lm_head, ple_table, ple_projection, "
                                "attention, mlp, moe_router, experts)"},
      {"default: q3_k", "config.yaml:1:10: default: unknown format 'q3_k' (expected one of f32, "
                        "bf16, f16, q8_0, q4_0, q4_1, q8_ch)"},
      {"classes:\n  mlp: [q4_0]", "config.yaml:2:9: classes.mlp: expected a string"},
      {"quant: q4_0",
       "config.yaml:1:1: unknown key 'quant' (expected default, classes, patterns, activations)"},
      {"activations: int4", "config.yaml:1:14: activations: 'int4' is not f32, int8 or bf16"},
      {"classes: q4_0", "config.yaml:1:10: classes: expected a mapping"},
      {"patterns: {\"[\": q4_0}", "config.yaml:1:12: patterns: '[' is not a valid pattern"},
      {"- q4_0", "config.yaml: expected a mapping with default, classes or patterns"},
      {"{\"default\": \"q4_0\"", "config.yaml:1:"},
      {"", "config.yaml: expected a mapping"}};
  for (auto [text, expected] : cases) {
    llvm::Expected<QuantConfig> config = QuantConfig::parse(text, "config.yaml");
    ASSERT_FALSE(bool(config)) << text;
    std::string message = llvm::toString(config.takeError());
    EXPECT_NE(message.find(expected), std::string::npos) << text << "\n" << message;
  }
  llvm::Expected<QuantConfig> unknown = QuantConfig::uniform("int4");
  ASSERT_FALSE(bool(unknown));
  EXPECT_EQ(llvm::toString(unknown.takeError()),
            "--quant: unknown format 'int4' (expected one of f32, bf16, f16, q8_0, q4_0, q4_1, "
            "q8_ch)");
}

} // namespace
} // namespace gemc
