//===- TextConfig.cpp - The Gemma 4 text model's config.json --------------===//

#include "frontends/TextConfig.h"

#include "runtime/common/Error.h"
#include "frontends/JsonFields.h"

#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>

namespace gemc {
namespace {

void readLayerTypes(FieldReader &reader, TextConfig &config) {
  const llvm::json::Value *value = reader.raw("layer_types");
  if (!value) { // Transformers: every 6th layer is full, and the last one always is
    for (int64_t i = 0; i < config.numLayers; ++i)
      config.layerTypes.push_back((i + 1) % 6 == 0 || i + 1 == config.numLayers
                                      ? LayerType::Full
                                      : LayerType::Sliding);
    return;
  }
  const llvm::json::Array *array = value->getAsArray();
  if (!array)
    return reader.fail(fmt::format("field '{}': expected an array of \"sliding_attention\" / "
                                   "\"full_attention\", found {}",
                                   reader.field("layer_types"), jsonKind(*value)));
  for (size_t i = 0; i < array->size(); ++i) {
    std::optional<llvm::StringRef> name = (*array)[i].getAsString();
    if (name == "sliding_attention")
      config.layerTypes.push_back(LayerType::Sliding);
    else if (name == "full_attention")
      config.layerTypes.push_back(LayerType::Full);
    else
      return reader.fail(fmt::format("field '{}[{}]': expected \"sliding_attention\" or "
                                     "\"full_attention\"",
                                     reader.field("layer_types"), i));
  }
}

void readRope(FieldReader &parent, llvm::StringRef layerType, RopeParams &rope) {
  const llvm::json::Value *all = parent.raw("rope_parameters");
  if (!all)
    return;
  std::string where = parent.field("rope_parameters");
  if (!all->getAsObject())
    return parent.fail(fmt::format("field '{}': expected an object keyed by layer type, found {}",
                                   where, jsonKind(*all)));
  const llvm::json::Value *value = all->getAsObject()->get(layerType);
  if (!value || value->kind() == llvm::json::Value::Null)
    return;
  if (!value->getAsObject())
    return parent.fail(fmt::format("field '{}.{}': expected an object, found {}", where,
                                   layerType.str(), jsonKind(*value)));
  FieldReader reader =
      parent.nested(*value->getAsObject(), fmt::format("rope_parameters.{}", layerType.str()));
  std::optional<std::string> type;
  reader.optionalString("rope_type", type);
  reader.number("rope_theta", rope.theta);
  reader.number("partial_rotary_factor", rope.partialRotaryFactor);
  double factor = 1.0;
  reader.number("factor", factor);
  if (factor != 1.0)
    reader.fail(fmt::format("field '{}' = {} (RoPE frequency scaling) is not supported",
                            reader.field("factor"), factor));
  if (type == "default")
    rope.type = RopeType::Default;
  else if (type == "proportional")
    rope.type = RopeType::Proportional;
  else if (type)
    reader.fail(fmt::format("field '{}': unsupported RoPE type \"{}\" (gemc knows \"default\" "
                            "and \"proportional\")",
                            reader.field("rope_type"), *type));
}

/// Checks the relations between fields that shapes depend on.
void checkConsistency(FieldReader &r, const TextConfig &c) {
  auto positive = [&](llvm::StringRef key, int64_t value) {
    if (value <= 0)
      r.fail(fmt::format("field '{}' must be positive, found {}", r.field(key), value));
  };
  positive("vocab_size", c.vocabSize);
  positive("hidden_size", c.hiddenSize);
  positive("intermediate_size", c.intermediateSize);
  positive("num_hidden_layers", c.numLayers);
  positive("num_attention_heads", c.numHeads);
  positive("num_key_value_heads", c.numKvHeads);
  positive("head_dim", c.headDim);
  positive("global_head_dim", c.globalHeadDim);
  positive("sliding_window", c.slidingWindow);
  positive("max_position_embeddings", c.maxPositionEmbeddings);
  for (auto [key, value] : {std::pair{"vocab_size", c.vocabSize},
                            std::pair{"hidden_size", c.hiddenSize},
                            std::pair{"intermediate_size", c.intermediateSize},
                            std::pair{"num_attention_heads", c.numHeads},
                            std::pair{"num_key_value_heads", c.numKvHeads},
                            std::pair{"head_dim", c.headDim},
                            std::pair{"global_head_dim", c.globalHeadDim},
                            std::pair{"vocab_size_per_layer_input", c.vocabSizePerLayerInput},
                            std::pair{"hidden_size_per_layer_input", c.hiddenSizePerLayerInput},
                            std::pair{"num_experts", c.numExperts},
                            std::pair{"moe_intermediate_size", c.moeIntermediateSize},
                            std::pair{"sliding_window", c.slidingWindow},
                            std::pair{"max_position_embeddings", c.maxPositionEmbeddings}})
    r.checkAtMost(key, value, kMaxDimension);
  for (auto [key, id] : {std::pair{"pad_token_id", c.padTokenId},
                         std::pair{"bos_token_id", c.bosTokenId},
                         std::pair{"eos_token_id", c.eosTokenId}})
    if (id < 0 || (c.vocabSize > 0 && id >= c.vocabSize))
      r.fail(fmt::format("field '{}' is {}, outside the vocabulary [0, {})", r.field(key), id,
                         c.vocabSize));
  if (!(c.rmsNormEps > 0))
    r.fail(fmt::format("field '{}' must be positive", r.field("rms_norm_eps")));
  if (c.hiddenSizePerLayerInput < 0)
    r.fail(fmt::format("field '{}' must not be negative", r.field("hidden_size_per_layer_input")));
  if (c.hasPle())
    positive("vocab_size_per_layer_input", c.vocabSizePerLayerInput);
  if (c.headDim % 2 || c.globalHeadDim % 2)
    r.fail(fmt::format("fields '{}' and '{}' must be even (RoPE rotates channel pairs)",
                       r.field("head_dim"), r.field("global_head_dim")));
  if (int64_t(c.layerTypes.size()) != c.numLayers)
    r.fail(fmt::format("field '{}' has {} entries but num_hidden_layers is {}",
                       r.field("layer_types"), c.layerTypes.size(), c.numLayers));
  if (c.numKvHeads > 0 && c.numHeads % c.numKvHeads)
    r.fail(fmt::format("field '{}' ({}) must divide num_attention_heads ({})",
                       r.field("num_key_value_heads"), c.numKvHeads, c.numHeads));
  if (c.attentionKEqV) {
    if (!c.numGlobalKvHeads || *c.numGlobalKvHeads <= 0 || c.numHeads % *c.numGlobalKvHeads)
      r.fail(fmt::format("field '{}' must be a positive divisor of num_attention_heads when "
                         "attention_k_eq_v is true",
                         r.field("num_global_key_value_heads")));
  }
  if (c.numKvSharedLayers < 0 || c.numKvSharedLayers >= c.numLayers)
    r.fail(fmt::format("field '{}' ({}) must be at least 0 and less than num_hidden_layers ({})",
                       r.field("num_kv_shared_layers"), c.numKvSharedLayers, c.numLayers));
  if (c.enableMoeBlock) {
    positive("num_experts", c.numExperts);
    positive("moe_intermediate_size", c.moeIntermediateSize);
    if (c.topKExperts <= 0 || c.topKExperts > c.numExperts)
      r.fail(fmt::format("field '{}' ({}) must be between 1 and num_experts ({})",
                         r.field("top_k_experts"), c.topKExperts, c.numExperts));
  }
  for (const RopeParams *rope : {&c.ropeSliding, &c.ropeFull})
    if (!(rope->theta > 0) || !(rope->partialRotaryFactor > 0 && rope->partialRotaryFactor <= 1))
      r.fail(fmt::format("field '{}': rope_theta must be positive and partial_rotary_factor in "
                         "(0, 1]",
                         r.field("rope_parameters")));
  if (c.finalLogitSoftcapping && !(*c.finalLogitSoftcapping > 0))
    r.fail(fmt::format("field '{}' must be positive or null", r.field("final_logit_softcapping")));
  if (c.useBidirectionalAttention == "all")
    r.fail(fmt::format("field '{}': \"all\" (non-causal text attention) is not supported",
                       r.field("use_bidirectional_attention")));
  if (int64_t(c.layerTypes.size()) == c.numLayers && c.numKvSharedLayers > 0 &&
      c.numKvSharedLayers < c.numLayers)
    for (int64_t i = c.firstKvSharedLayer(); i < c.numLayers; ++i)
      if (!c.layer(i).kvSourceLayer)
        return r.fail(fmt::format("layer {} is KV-shared (num_kv_shared_layers = {}) but no "
                                  "earlier non-shared layer has its type",
                                  i, c.numKvSharedLayers));
}

} // namespace

llvm::Expected<TextConfig> TextConfig::parse(llvm::StringRef text, const std::string &path) {
  llvm::Expected<llvm::json::Value> json = parseJsonStrictly(text);
  if (!json)
    return makeError("{}: not valid JSON: {}", path, llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return makeError("{}: expected a JSON object at the top level", path);
  const llvm::json::Object *object = root;
  std::string prefix;
  if (const llvm::json::Value *nested = root->get("text_config")) {
    if (!nested->getAsObject())
      return makeError("{}: field 'text_config': expected an object, found {}", path,
                       jsonKind(*nested));
    object = nested->getAsObject();
    prefix = "text_config.";
  } else if (root->getString("model_type") != "gemma4_text") {
    return makeError("{}: no 'text_config' object, and 'model_type' is not \"gemma4_text\"",
                     path);
  }
  if (std::optional<llvm::StringRef> type = object->getString("model_type");
      type && *type != "gemma4_text")
    return makeError("{}: field '{}model_type' is \"{}\"; gemc reads Gemma 4 (\"gemma4_text\")",
                     path, prefix, type->str());

  TextConfig c;
  std::optional<std::string> firstError;
  FieldReader r(*object, path, prefix, firstError);
  r.integer("vocab_size", c.vocabSize, /*required=*/true);
  r.integer("hidden_size", c.hiddenSize, true);
  r.integer("intermediate_size", c.intermediateSize, true);
  r.integer("num_hidden_layers", c.numLayers, true);
  r.integer("num_attention_heads", c.numHeads, true);
  r.integer("num_key_value_heads", c.numKvHeads, true);
  r.integer("head_dim", c.headDim, true);
  r.integer("global_head_dim", c.globalHeadDim);
  r.optionalInteger("num_global_key_value_heads", c.numGlobalKvHeads);
  r.boolean("attention_k_eq_v", c.attentionKEqV);
  r.integer("max_position_embeddings", c.maxPositionEmbeddings);
  r.number("rms_norm_eps", c.rmsNormEps);
  r.integer("pad_token_id", c.padTokenId);
  r.integer("bos_token_id", c.bosTokenId);
  if (const llvm::json::Value *eos = r.raw("eos_token_id"); eos && !eos->getAsArray())
    r.integer("eos_token_id", c.eosTokenId); // a list of stop ids is generation's business
  r.boolean("tie_word_embeddings", c.tieWordEmbeddings);
  r.integer("sliding_window", c.slidingWindow);
  r.optionalNumber("final_logit_softcapping", c.finalLogitSoftcapping);
  r.optionalString("use_bidirectional_attention", c.useBidirectionalAttention);
  r.integer("vocab_size_per_layer_input", c.vocabSizePerLayerInput);
  r.integer("hidden_size_per_layer_input", c.hiddenSizePerLayerInput);
  r.integer("num_kv_shared_layers", c.numKvSharedLayers);
  r.boolean("use_double_wide_mlp", c.useDoubleWideMlp);
  r.boolean("enable_moe_block", c.enableMoeBlock);
  r.integer("num_experts", c.numExperts);
  r.integer("top_k_experts", c.topKExperts);
  r.integer("moe_intermediate_size", c.moeIntermediateSize);
  std::optional<std::string> activation;
  r.optionalString("hidden_activation", activation);
  if (activation && *activation != "gelu_pytorch_tanh")
    r.fail(fmt::format("field '{}' is \"{}\"; Gemma 4 uses \"gelu_pytorch_tanh\"",
                       r.field("hidden_activation"), *activation));
  bool attentionBias = false;
  r.boolean("attention_bias", attentionBias);
  if (attentionBias)
    r.fail(fmt::format("field '{}' is true; Gemma 4 projections have no bias",
                       r.field("attention_bias")));
  readRope(r, "sliding_attention", c.ropeSliding);
  readRope(r, "full_attention", c.ropeFull);
  r.checkAtMost("num_hidden_layers", c.numLayers, kMaxLayers); // before the default layer_types
  if (llvm::Error error = r.takeError())
    return error;
  readLayerTypes(r, c);
  if (llvm::Error error = r.takeError())
    return error;
  checkConsistency(r, c);
  if (llvm::Error error = r.takeError())
    return error;
  return c;
}

llvm::Expected<TextConfig> TextConfig::load(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError("{}: cannot open: {}", path, buffer.getError().message());
  return parse((*buffer)->getBuffer(), path);
}

LayerSpec TextConfig::layer(int64_t index) const {
  LayerSpec spec;
  spec.type = layerTypes[index];
  bool full = spec.type == LayerType::Full;
  spec.headDim = full ? globalHeadDim : headDim;
  spec.vFromK = full && attentionKEqV;
  spec.numKvHeads = spec.vFromK ? *numGlobalKvHeads : numKvHeads;
  spec.slidingWindow = full ? 0 : slidingWindow;
  spec.rope = full ? ropeFull : ropeSliding;
  bool shared = numKvSharedLayers > 0 && index >= firstKvSharedLayer();
  spec.mlpWidth = intermediateSize * (shared && useDoubleWideMlp ? 2 : 1);
  if (shared) // the last non-shared layer of the same type
    for (int64_t j = firstKvSharedLayer() - 1; j >= 0; --j)
      if (layerTypes[j] == spec.type) {
        spec.kvSourceLayer = j;
        break;
      }
  return spec;
}

} // namespace gemc
