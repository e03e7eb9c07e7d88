//===- RunCommand.cpp - gemc run, gemc chat and gemc inspect ----------------===//

#include "runtime/common/Error.h"
#include "gemc/runtime.h"
#include "runtime/Artifact.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"

#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

namespace gemc {
namespace {

/// " (q4_0: 120 tensors, 2483.4 MiB; bf16: ...)": the stored formats, in order of first use.
std::string formatSummary(const artifact::Manifest &m) {
  if (!m.tensors())
    return "";
  std::vector<std::pair<std::string, std::pair<int, uint64_t>>> formats;
  for (const artifact::Tensor *t : *m.tensors()) {
    std::string format = t->dtype() ? t->dtype()->str() : "?";
    auto it = std::find_if(formats.begin(), formats.end(),
                           [&](const auto &entry) { return entry.first == format; });
    if (it == formats.end())
      it = formats.insert(formats.end(), {format, {0, 0}});
    it->second.first += 1;
    it->second.second += t->size();
  }
  std::vector<std::string> parts;
  for (const auto &[format, counts] : formats)
    parts.push_back(fmt::format("{}: {} tensors, {:.1f} MiB", format, counts.first,
                                double(counts.second) / (1 << 20)));
  return fmt::format(" ({})", fmt::join(parts, "; "));
}

} // namespace
llvm::Error runRun(const RunOptions &options) {
  std::string error;
  return runCommand(options, error) ? llvm::Error::success() : makeError("{}", error);
}

llvm::Error runChat(const ChatOptions &options) {
  std::string error;
  return chatCommand(options, error) ? llvm::Error::success() : makeError("{}", error);
}

llvm::Error runInspect(const InspectOptions &options) {
  std::string error;
  std::unique_ptr<MappedArtifact> artifact =
      MappedArtifact::open(options.artifact, error, /*checkTarget=*/false);
  if (!artifact)
    return makeError("{}", error);
  const artifact::Manifest &m = artifact->manifest();
  auto text = [](const flatbuffers::String *s) { return s ? s->str() : std::string("?"); };
  llvm::raw_ostream &os = llvm::outs();
  os << fmt::format("artifact   {}\ncompiler   {}\n", options.artifact, text(m.compiler()));
  os << fmt::format("model      {} (vocab {}, hidden {}, {} layers, context up to {})\n",
                    text(m.model()->source()), m.model()->vocab_size(), m.model()->hidden_size(),
                    m.model()->num_layers(), m.model()->max_position_embeddings());
  const artifact::Target &t = *m.target();
  if (t.vector_width() > 0)
    os << fmt::format("target     {} ({}, cpu {}, {} f32 lanes)\n", text(t.name()),
                      text(t.triple()), text(t.cpu()), t.vector_width());
  else
    os << fmt::format("target     {} ({}, SPIR-V compute shaders)\n", text(t.name()),
                      text(t.triple()));
  if (std::string why = checkTargetAgainstHost(t); !why.empty())
    os << fmt::format("           not runnable here: {}\n", why);
  if (runsOnVulkan(t)) {
    gemc_model *model = nullptr;
    if (gemc_model_open_device(options.artifact.c_str(), options.device, &model) == GEMC_OK)
      os << fmt::format("device     {}\n", gemc_model_device_name(model));
    else
      os << fmt::format("device     none usable here: {}\n", gemc_last_error());
    gemc_model_free(model);
  }
  os << fmt::format("dispatches {} per forward step ({} ... {})\nsections\n",
                    m.dispatches()->size(), text(m.dispatches()->Get(0)->kernel()),
                    text(m.dispatches()->Get(m.dispatches()->size() - 1)->kernel()));
  for (const artifact::Section *s : *m.sections())
    os << fmt::format("  {:<8} offset {:>12}  size {:>14}  checksum {:016x}\n", text(s->name()),
                      s->offset(), s->size(), s->checksum());
  if (const artifact::SyntheticWeights *synthetic = m.synthetic_weights())
    os << fmt::format("  weights  synthetic: {} bytes generated at load time from seed {}\n",
                      synthetic->bytes(), synthetic->seed());
  const artifact::MemoryPlan &plan = *m.plan();
  os << fmt::format("memory plan: at most {} tokens per call; scratch {} bytes; KV cache {} bytes "
                    "+ {} bytes per context position\n",
                    plan.max_chunk(), plan.scratch_bytes(), plan.kv_fixed_bytes(),
                    plan.kv_per_context_bytes());
  if (plan.kv_layers())
    for (const artifact::KvLayer *l : *plan.kv_layers())
      os << fmt::format("  layer {:>3}: {} KV heads x {}, {}\n", l->layer(), l->kv_heads(),
                        l->head_dim(),
                        l->ring_capacity() ? fmt::format("ring of {} positions", l->ring_capacity())
                                           : std::string("full context"));
  os << fmt::format("tensors    {}{}\n", m.tensors() ? m.tensors()->size() : 0,
                    formatSummary(m));
  // Dispatch formation names the steps that round projection inputs "<dispatch>.quantize"
  // (int8) and "<dispatch>.bf16".
  auto rounding = [&](llvm::StringRef suffix) {
    return llvm::count_if(*m.dispatches(), [&](const artifact::Dispatch *d) {
      return llvm::StringRef(text(d->name())).ends_with(suffix);
    });
  };
  if (int64_t rounded = rounding(".quantize"))
    os << fmt::format("activations int8 for the quantized projections ({} quantize dispatches)\n",
                      rounded);
  if (int64_t rounded = rounding(".bf16"))
    os << fmt::format("activations bf16 for the bf16 projections ({} rounding dispatches)\n",
                      rounded);
  std::map<int32_t, int64_t> tiled; // tile rows -> matrices stored so
  for (const artifact::Tensor *t : *m.tensors())
    if (t->tile_rows())
      ++tiled[t->tile_rows()];
  for (auto [rows, count] : tiled)
    os << fmt::format("row tiles  {} matrices stored in tiles of {} rows for integer dot "
                      "products\n",
                      count, rows);
  uint64_t tokenizerBytes = 0;
  artifact->section("tokenizer", &tokenizerBytes);
  os << fmt::format("text       tokenizer {}, chat template {}\n",
                    tokenizerBytes ? fmt::format("{} bytes", tokenizerBytes) : "none",
                    text(m.chat_template()));
  if (const artifact::Generation *g = m.generation())
    os << fmt::format("generation stop ids {}; {} (temperature {}, top-k {}, top-p {}, min-p {}, "
                      "repetition penalty {})\n",
                      g->stop_ids() ? fmt::format("{}", fmt::join(*g->stop_ids(), ", ")) : "-",
                      g->do_sample() ? "sampling" : "greedy", g->temperature(), g->top_k(),
                      g->top_p(), g->min_p(), g->repetition_penalty());
  return llvm::Error::success();
}

} // namespace gemc
