//===- QuantConfig.cpp - Which weight gets which format -------------------===//

#include "compiler/quant/QuantConfig.h"

#include "runtime/common/Error.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/GlobPattern.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/YAMLParser.h>

namespace gemc {
namespace {

struct ClassName {
  TensorClass tensorClass;
  llvm::StringLiteral name;
};
constexpr ClassName kClassNames[] = {
    {TensorClass::Embedding, "embedding"},   {TensorClass::LmHead, "lm_head"},
    {TensorClass::PleTable, "ple_table"},    {TensorClass::PleProjection, "ple_projection"},
    {TensorClass::Attention, "attention"},   {TensorClass::Mlp, "mlp"},
    {TensorClass::MoeRouter, "moe_router"},  {TensorClass::Experts, "experts"}};
constexpr llvm::StringLiteral kClassList =
    "embedding, lm_head, ple_table, ple_projection, attention, mlp, moe_router, experts";

/// Reads a YAML/JSON document, turning parser diagnostics into one error message.
class ConfigReader {
public:
  ConfigReader(llvm::StringRef text, const std::string &path) : path_(path) {
    sources_.setDiagHandler(
        [](const llvm::SMDiagnostic &d, void *self) {
          auto *reader = static_cast<ConfigReader *>(self);
          if (reader->error_.empty())
            reader->error_ = reader->where(d.getLoc()) + d.getMessage().str();
        },
        this);
    stream_ = std::make_unique<llvm::yaml::Stream>(text, sources_);
  }

  std::string where(llvm::SMLoc loc) const {
    // The parser's error recovery can hand back nodes without a place in the text.
    if (!sources_.FindBufferContainingLoc(loc))
      return path_ + ": ";
    auto [line, column] = sources_.getLineAndColumn(loc);
    return path_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
  std::string where(llvm::yaml::Node *node) const { return where(node->getSourceRange().Start); }

  llvm::Error fail(llvm::yaml::Node *node, std::string message) {
    return makeError("{}{}", node ? where(node) : path_ + ": ", message);
  }

  /// The scalar text of `node`, or an error naming `what`.
  llvm::Expected<std::string> scalar(llvm::yaml::Node *node, llvm::StringRef what) {
    auto *s = llvm::dyn_cast_or_null<llvm::yaml::ScalarNode>(node);
    if (!s)
      return fail(node, fmt::format("{}: expected a string", what.str()));
    llvm::SmallString<32> storage;
    return s->getValue(storage).str();
  }

  llvm::Expected<WeightFormat> format(llvm::yaml::Node *node, llvm::StringRef what) {
    llvm::Expected<std::string> text = scalar(node, what);
    if (!text)
      return text.takeError();
    if (std::optional<WeightFormat> f = parseWeightFormat(*text))
      return *f;
    return fail(node, fmt::format("{}: unknown format '{}' (expected one of {})", what.str(),
                                  *text, weightFormatNames()));
  }

  llvm::yaml::Stream &stream() { return *stream_; }
  const std::string &error() const { return error_; }

private:
  std::string path_, error_;
  llvm::SourceMgr sources_;
  std::unique_ptr<llvm::yaml::Stream> stream_;
};

llvm::Error readClasses(ConfigReader &reader, llvm::yaml::MappingNode &map, QuantConfig &config) {
  for (llvm::yaml::KeyValueNode &entry : map) {
    llvm::Expected<std::string> key = reader.scalar(entry.getKey(), "classes");
    if (!key)
      return key.takeError();
    const ClassName *known = std::find_if(std::begin(kClassNames), std::end(kClassNames),
                                          [&](const ClassName &c) { return c.name == *key; });
    if (known == std::end(kClassNames))
      return reader.fail(entry.getKey(), fmt::format("classes: unknown tensor class '{}' "
                                                     "(expected one of {})",
                                                     *key, kClassList.str()));
    llvm::Expected<WeightFormat> f = reader.format(entry.getValue(), "classes." + *key);
    if (!f)
      return f.takeError();
    config.classes[known->tensorClass] = *f;
  }
  return llvm::Error::success();
}

llvm::Error readPatterns(ConfigReader &reader, llvm::yaml::MappingNode &map, QuantConfig &config) {
  for (llvm::yaml::KeyValueNode &entry : map) {
    llvm::Expected<std::string> pattern = reader.scalar(entry.getKey(), "patterns");
    if (!pattern)
      return pattern.takeError();
    if (llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(*pattern); !glob)
      return reader.fail(entry.getKey(), fmt::format("patterns: '{}' is not a valid pattern: {}",
                                                     *pattern, llvm::toString(glob.takeError())));
    llvm::Expected<WeightFormat> f = reader.format(entry.getValue(), "patterns." + *pattern);
    if (!f)
      return f.takeError();
    config.patterns.emplace_back(*pattern, *f);
  }
  return llvm::Error::success();
}

llvm::Error readTopLevel(ConfigReader &reader, llvm::yaml::MappingNode &top, QuantConfig &config) {
  for (llvm::yaml::KeyValueNode &entry : top) {
    llvm::Expected<std::string> key = reader.scalar(entry.getKey(), "key");
    if (!key)
      return key.takeError();
    if (*key == "activations") {
      llvm::Expected<std::string> value = reader.scalar(entry.getValue(), "activations");
      if (!value)
        return value.takeError();
      std::optional<ActivationFormat> activations = parseActivationFormat(*value);
      if (!activations)
        return reader.fail(entry.getValue(),
                           fmt::format("activations: '{}' is not f32, int8 or bf16", *value));
      config.activations = *activations;
      continue;
    }
    if (*key == "default") {
      llvm::Expected<WeightFormat> f = reader.format(entry.getValue(), "default");
      if (!f)
        return f.takeError();
      config.defaultFormat = *f;
      continue;
    }
    if (*key != "classes" && *key != "patterns")
      return reader.fail(entry.getKey(), fmt::format("unknown key '{}' (expected default, "
                                                     "classes, patterns, activations)",
                                                     *key));
    auto *map = llvm::dyn_cast_or_null<llvm::yaml::MappingNode>(entry.getValue());
    if (!map)
      return reader.fail(entry.getValue(), *key + ": expected a mapping");
    if (llvm::Error error = *key == "classes" ? readClasses(reader, *map, config)
                                             : readPatterns(reader, *map, config))
      return error;
  }
  return llvm::Error::success();
}

bool endsWithAny(llvm::StringRef name, std::initializer_list<llvm::StringRef> suffixes) {
  return llvm::any_of(suffixes, [&](llvm::StringRef s) { return name.ends_with(s); });
}

} // namespace

TensorClass classifyTensor(llvm::StringRef name) {
  if (name.ends_with("embed_tokens_per_layer.weight"))
    return TensorClass::PleTable;
  if (name.ends_with("embed_tokens.weight"))
    return TensorClass::Embedding;
  if (name == "lm_head.weight")
    return TensorClass::LmHead;
  if (endsWithAny(name, {"per_layer_model_projection.weight", "per_layer_input_gate.weight",
                         "per_layer_projection.weight"}))
    return TensorClass::PleProjection;
  if (endsWithAny(name, {"self_attn.q_proj.weight", "self_attn.k_proj.weight",
                         "self_attn.v_proj.weight", "self_attn.o_proj.weight"}))
    return TensorClass::Attention;
  if (endsWithAny(name, {"mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"}))
    return TensorClass::Mlp;
  if (name.ends_with("router.proj.weight"))
    return TensorClass::MoeRouter;
  if (endsWithAny(name, {"experts.gate_up_proj", "experts.down_proj"}))
    return TensorClass::Experts;
  return TensorClass::None;
}

llvm::Expected<QuantConfig> QuantConfig::uniform(llvm::StringRef format) {
  std::optional<WeightFormat> f = parseWeightFormat(format);
  if (!f)
    return makeError("--quant: unknown format '{}' (expected one of {})", format.str(),
                     weightFormatNames());
  QuantConfig config;
  config.defaultFormat = *f;
  return config;
}

llvm::Expected<QuantConfig> QuantConfig::parse(llvm::StringRef text, const std::string &path) {
  ConfigReader reader(text, path);
  llvm::yaml::document_iterator document = reader.stream().begin();
  llvm::yaml::Node *root = document != reader.stream().end() ? document->getRoot() : nullptr;
  auto *top = llvm::dyn_cast_or_null<llvm::yaml::MappingNode>(root);
  QuantConfig config;
  llvm::Error error = top ? readTopLevel(reader, *top, config)
                          : makeError("{}: expected a mapping with default, classes or patterns",
                                      path);
  if (!reader.error().empty()) { // a syntax error, found while walking the document
    llvm::consumeError(std::move(error));
    return makeError("{}", reader.error());
  }
  if (error)
    return error;
  return config;
}

llvm::Expected<QuantConfig> QuantConfig::load(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError("{}: cannot open: {}", path, buffer.getError().message());
  return parse((*buffer)->getBuffer(), path);
}

std::optional<WeightFormat> QuantConfig::formatFor(const TensorInfo &tensor) const {
  if (tensor.shape.size() < 2)
    return std::nullopt;
  for (const auto &[pattern, format] : patterns)
    if (llvm::cantFail(llvm::GlobPattern::create(pattern)).match(tensor.name))
      return format;
  if (auto it = classes.find(classifyTensor(tensor.name)); it != classes.end())
    return it->second;
  if (classifyTensor(tensor.name) == TensorClass::None)
    return std::nullopt;
  return defaultFormat;
}

} // namespace gemc
