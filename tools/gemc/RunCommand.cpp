//===- RunCommand.cpp - gemc run and gemc inspect ---------------------------===//

#include "frontends/Error.h"
#include "gemc/runtime.h"
#include "runtime/Artifact.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"

#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

namespace gemc {
llvm::Error runRun(const RunOptions &options) {
  RuntimeSession rt;
  if (gemc_model_open(options.artifact.c_str(), &rt.model) != GEMC_OK)
    return runtimeError();
  int64_t vocab = gemc_model_vocab_size(rt.model);
  llvm::Expected<std::vector<int32_t>> prompt = parseTokenIds(options.tokens, vocab, "--tokens");
  if (!prompt)
    return prompt.takeError();
  int64_t context = options.contextLength
                        ? options.contextLength
                        : std::min<int64_t>(gemc_model_max_context(rt.model),
                                            int64_t(prompt->size()) + options.generate);
  if (gemc_session_create(rt.model, context, int32_t(options.threads), &rt.session) != GEMC_OK)
    return runtimeError();
  auto evaluate = [&](const std::vector<int32_t> &ids) -> llvm::Expected<std::vector<float>> {
    std::vector<float> logits(ids.size() * vocab);
    if (gemc_session_prefill(rt.session, ids.data(), int64_t(ids.size()), logits.data()) !=
        GEMC_OK)
      return runtimeError();
    return logits;
  };
  return generateGreedy(evaluate, *prompt, options.generate, vocab, options.dumpLogits);
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
  os << fmt::format("target     {} ({}, cpu {}, {} f32 lanes)\n", text(t.name()), text(t.triple()),
                    text(t.cpu()), t.vector_width());
  if (std::string why = checkTargetAgainstHost(t); !why.empty())
    os << fmt::format("           not runnable here: {}\n", why);
  os << fmt::format("entry      {}\nsections\n", text(m.entry_point()));
  for (const artifact::Section *s : *m.sections())
    os << fmt::format("  {:<8} offset {:>12}  size {:>14}  checksum {:016x}\n", text(s->name()),
                      s->offset(), s->size(), s->checksum());
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
  os << fmt::format("tensors    {}\n", m.tensors() ? m.tensors()->size() : 0);
  return llvm::Error::success();
}

} // namespace gemc
