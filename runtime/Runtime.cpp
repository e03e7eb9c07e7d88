//===- Runtime.cpp - The gemc runtime C API -------------------------------===//
//
// Glue only (design.md invariant 1): verified artifact, one KV-cache allocation per session
// (invariant 4), and forward steps of at most the plan's max_chunk tokens, each run by the
// session's executor: the dispatch table on the CPU's worker pool, or on a Vulkan device.
// Token ids and positions are checked here, at the API boundary.
//
//===----------------------------------------------------------------------===//

#include "gemc/runtime.h"

#include "runtime/Artifact.h"
#include "runtime/CpuExecutor.h"
#include "runtime/TextSession.h"
#include "runtime/WorkerPool.h"
#include "runtime/vulkan/VulkanExecutor.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

using namespace gemc;

struct gemc_model {
  std::unique_ptr<MappedArtifact> artifact;
  CpuProgram program;                  // CPU targets
  std::unique_ptr<VulkanModel> vulkan; // the vulkan target
  int64_t vocab = 0, maxContext = 0, maxChunk = 0;
  std::unique_ptr<Tokenizer> tokenizer; // null without a "tokenizer" section
  std::vector<int32_t> stopIds;
  ChatVariant chat = ChatVariant::Small;
};

struct gemc_session {
  gemc_model *model = nullptr;
  int64_t contextLength = 0, position = 0;
  void *kvCache = nullptr, *scratch = nullptr; // CPU targets
  std::unique_ptr<WorkerPool> pool;
  std::vector<int32_t> ids;   // [max_chunk]: the call's token ids
  std::vector<float> logits; // [max_chunk, vocab]: the last call's rows
  std::unique_ptr<Executor> executor;
  int64_t lastRow = -1;
  std::unique_ptr<TextSession> text; // created by the first text call
};

namespace {

thread_local std::string lastError;

gemc_status fail(gemc_status status, std::string message) {
  lastError = std::move(message);
  return status;
}

gemc_status evaluate(gemc_session *s, const int32_t *tokens, int64_t n, float *logitsOut) {
  const gemc_model &m = *s->model;
  if (n < 0 || (n > 0 && !tokens))
    return fail(GEMC_ERROR_ARGUMENT, "tokens must be a non-null array of n >= 0 ids");
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= m.vocab)
      return fail(GEMC_ERROR_ARGUMENT, "token id " + std::to_string(tokens[i]) + " (entry " +
                                           std::to_string(i) + ") is outside the vocabulary [0, " +
                                           std::to_string(m.vocab) + ")");
  if (s->position + n > s->contextLength)
    return fail(GEMC_ERROR_CONTEXT,
                "the context is full: " + std::to_string(s->position) + " + " +
                    std::to_string(n) + " tokens exceed the session's context length of " +
                    std::to_string(s->contextLength));
  for (int64_t done = 0; done < n;) {
    int64_t count = std::min(m.maxChunk, n - done);
    // Without an output buffer only the last row is needed: the generated code then skips the
    // vocabulary projection of the other tokens.
    int64_t rows = logitsOut ? count : 1;
    std::copy_n(tokens + done, count, s->ids.data());
    std::string error;
    if (!s->executor->run(count, s->position, rows, error))
      return fail(GEMC_ERROR_DEVICE, error);
    if (logitsOut)
      std::memcpy(logitsOut + done * m.vocab, s->logits.data(),
                  size_t(count * m.vocab) * sizeof(float));
    s->position += count;
    s->lastRow = rows - 1;
    done += count;
  }
  return GEMC_OK;
}

/// Reads what text generation needs from the manifest: tokenizer, stop ids, chat template.
gemc_status loadTextSupport(gemc_model &m) {
  const artifact::Manifest &manifest = m.artifact->manifest();
  std::string_view proto = m.artifact->tokenizerModel();
  if (!proto.empty() && Tokenizer::available()) {
    std::string error;
    m.tokenizer = Tokenizer::load(proto, error);
    if (!m.tokenizer)
      return fail(GEMC_ERROR_INVALID, error);
    if (m.tokenizer->size() > m.vocab)
      return fail(GEMC_ERROR_INVALID, "the artifact's tokenizer has " +
                                          std::to_string(m.tokenizer->size()) +
                                          " tokens, more than the model's vocabulary of " +
                                          std::to_string(m.vocab));
  }
  if (manifest.generation() && manifest.generation()->stop_ids())
    m.stopIds.assign(manifest.generation()->stop_ids()->begin(),
                     manifest.generation()->stop_ids()->end());
  if (m.stopIds.empty())
    m.stopIds.push_back(int32_t(manifest.model()->eos_token_id()));
  if (manifest.chat_template() && !parseChatVariant(manifest.chat_template()->string_view(), m.chat))
    return fail(GEMC_ERROR_INVALID, "unknown chat template '" + manifest.chat_template()->str() + "'");
  return GEMC_OK;
}

TextSession &textOf(gemc_session *s) {
  if (!s->text)
    s->text = std::make_unique<TextSession>(s, s->model->tokenizer.get(), s->model->stopIds);
  return *s->text;
}

/// Generates after what `feed` evaluates, streaming text to on_text.
gemc_status generateAfter(gemc_session *s, const std::function<gemc_status(std::string &)> &feed,
                          int64_t maxTokens, const gemc_sampling *sampling, gemc_text_fn onText,
                          void *user) {
  std::string error;
  if (gemc_status status = feed(error); status != GEMC_OK)
    return fail(status, error);
  gemc_sampling defaults;
  if (!sampling)
    gemc_model_sampling_defaults(s->model, &defaults);
  Sampler sampler(samplingParams(sampling ? *sampling : defaults));
  StopReason reason;
  auto emit = [&](int32_t, std::string_view text) {
    return !onText || text.empty() || onText(text.data(), text.size(), user) == 0;
  };
  if (gemc_status status = textOf(s).generate(maxTokens, sampler, emit, reason, error);
      status != GEMC_OK)
    return fail(status, error);
  return GEMC_OK;
}

/// An artifact file opened and verified, or the failure to report.
struct FailureOrArtifact {
  std::unique_ptr<MappedArtifact> artifact;
  gemc_status status = GEMC_OK;
  std::string error;
};

FailureOrArtifact openFile(const char *path) {
  FailureOrArtifact result;
  result.artifact = MappedArtifact::open(path, result.error);
  if (!result.artifact)
    result.status = result.error.find("cannot open") != std::string::npos ? GEMC_ERROR_IO
                                                                          : GEMC_ERROR_INVALID;
  return result;
}

/// The dispatch table of a verified artifact with the kernels bound: those of its code section,
/// or the linked-in table `linked` (one kernel per dispatch).
bool loadProgram(MappedArtifact &artifact, const KernelFunction *linked, CpuProgram &program,
                 std::string &error) {
  const auto &dispatches = *artifact.manifest().dispatches();
  if (linked)
    program.kernels.assign(linked, linked + dispatches.size());
  else
    program.kernels = artifact.bindKernels(error);
  for (const artifact::Dispatch *d : dispatches)
    program.bindings.push_back(bindingsOf(*d));
  return program.kernels.size() == dispatches.size();
}

/// Makes the model of a verified artifact: binds its code (or the `linked` kernel table) and
/// loads what text generation needs.
gemc_status openModel(FailureOrArtifact opened, const KernelFunction *linked,
                      gemc_model **model, int32_t device = -1) {
  if (!opened.artifact)
    return fail(opened.status, opened.error);
  auto *m = new (std::nothrow) gemc_model();
  if (!m)
    return fail(GEMC_ERROR_MEMORY, "out of memory");
  std::string error;
  if (!opened.artifact->weights()) { // a synthetic artifact's weights are generated here
    delete m;
    return fail(GEMC_ERROR_MEMORY, "out of memory for the synthetic weights");
  }
  bool gpu = runsOnVulkan(*opened.artifact->manifest().target());
  if (gpu && linked) { // libraries are CPU code; --emit lib refuses GPU targets
    delete m;
    return fail(GEMC_ERROR_INVALID, "a vulkan artifact cannot run with linked CPU kernels");
  }
  if (gpu ? !(m->vulkan = VulkanModel::open(*opened.artifact, device, error))
          : !loadProgram(*opened.artifact, linked, m->program, error)) {
    delete m;
    return fail(gpu ? GEMC_ERROR_DEVICE : GEMC_ERROR_INVALID, error);
  }
  const artifact::Manifest &manifest = opened.artifact->manifest();
  m->vocab = manifest.model()->vocab_size();
  m->maxContext = manifest.model()->max_position_embeddings();
  m->maxChunk = manifest.plan()->max_chunk();
  m->artifact = std::move(opened.artifact);
  if (gemc_status status = loadTextSupport(*m); status != GEMC_OK) {
    delete m;
    return status;
  }
  *model = m;
  return GEMC_OK;
}

gemc_status openModel(std::unique_ptr<MappedArtifact> artifact, const KernelFunction *linked,
                      gemc_model **model) {
  return openModel(FailureOrArtifact{std::move(artifact), GEMC_OK, {}}, linked, model);
}

} // namespace

const MappedArtifact &gemc::artifactOf(const gemc_model *model) { return *model->artifact; }
const Tokenizer *gemc::artifactTokenizer(const gemc_model *model) {
  return model->tokenizer.get();
}
const std::vector<int32_t> &gemc::artifactStopIds(const gemc_model *model) {
  return model->stopIds;
}
ChatVariant gemc::artifactChatVariant(const gemc_model *model) { return model->chat; }

extern "C" {

const char *gemc_last_error(void) { return lastError.c_str(); }

gemc_status gemc_model_open(const char *path, gemc_model **model) {
  return gemc_model_open_device(path, -1, model);
}

gemc_status gemc_model_open_device(const char *path, int32_t device, gemc_model **model) {
  if (!path || !model)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_model_open: null argument");
  return openModel(openFile(path), nullptr, model, device);
}

const char *gemc_model_device_name(const gemc_model *model) {
  return model->vulkan ? model->vulkan->deviceName().c_str() : "";
}

gemc_status gemc_model_open_linked(const void *artifact, uint64_t size, const void *kernels,
                                   gemc_model **model) {
  if (!artifact || !kernels || !model)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_model_open_linked: null argument");
  std::string error;
  std::unique_ptr<MappedArtifact> view =
      MappedArtifact::view(artifact, size, "the linked-in artifact", error);
  if (!view)
    return fail(GEMC_ERROR_INVALID, error);
  return openModel(std::move(view), static_cast<const KernelFunction *>(kernels), model);
}

gemc_status gemc_model_open_file_linked(const char *path, uint64_t manifestChecksum,
                                        const void *kernels, gemc_model **model) {
  if (!path || !kernels || !model)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_model_open_file_linked: null argument");
  FailureOrArtifact artifact = openFile(path);
  if (artifact.artifact && artifact.artifact->manifestChecksum() != manifestChecksum)
    return fail(GEMC_ERROR_INVALID,
                std::string(path) + ": this artifact was not compiled with the code linked into "
                                    "the program (manifest checksum differs); use the .gemc "
                                    "file written with the library");
  return openModel(std::move(artifact), static_cast<const KernelFunction *>(kernels), model);
}

void gemc_model_free(gemc_model *model) { delete model; }
int64_t gemc_model_vocab_size(const gemc_model *model) { return model->vocab; }
int64_t gemc_model_max_context(const gemc_model *model) { return model->maxContext; }

uint64_t gemc_model_kv_bytes(const gemc_model *model, int64_t contextLength) {
  const artifact::MemoryPlan &plan = *model->artifact->manifest().plan();
  return kvCacheBytes(plan, contextLength);
}

gemc_status gemc_session_create(gemc_model *model, int64_t contextLength, int32_t threads,
                                gemc_session **session) {
  if (!model || !session)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_session_create: null argument");
  if (contextLength < 1 || contextLength > model->maxContext)
    return fail(GEMC_ERROR_ARGUMENT, "context length " + std::to_string(contextLength) +
                                         " must be between 1 and the model's " +
                                         std::to_string(model->maxContext));
  auto *s = new (std::nothrow) gemc_session();
  if (!s)
    return fail(GEMC_ERROR_MEMORY, "out of memory");
  s->model = model;
  s->contextLength = contextLength;
  try {
    s->ids.resize(size_t(model->maxChunk));
    s->logits.resize(size_t(model->maxChunk * model->vocab));
    // A GPU session's host side is one thread.
    s->pool = std::make_unique<WorkerPool>(
        model->vulkan ? 1 : threads > 0 ? threads : std::thread::hardware_concurrency());
  } catch (const std::exception &) {
    s->pool.reset();
  }
  if (!s->pool) {
    gemc_session_free(s);
    return fail(GEMC_ERROR_MEMORY, "cannot allocate the session's buffers and threads");
  }
  if (model->vulkan) {
    std::string error;
    s->executor = VulkanExecutor::create(*model->vulkan, *model->artifact, contextLength,
                                         s->ids.data(), s->logits.data(), error);
    if (!s->executor) {
      gemc_session_free(s);
      return fail(GEMC_ERROR_DEVICE, error);
    }
    *session = s;
    return GEMC_OK;
  }
  uint64_t kvBytes = gemc_model_kv_bytes(model, contextLength);
  uint64_t scratchBytes = model->artifact->manifest().plan()->scratch_bytes();
  s->kvCache = std::calloc(1, std::max<uint64_t>(kvBytes, 1));
  s->scratch = std::aligned_alloc(64, (std::max<uint64_t>(scratchBytes, 1) + 63) / 64 * 64);
  if (s->kvCache && s->scratch)
    s->executor = std::make_unique<CpuExecutor>(
        model->program,
        CpuBuffers{model->artifact->weights(), s->kvCache, s->scratch, s->ids.data(),
                   s->logits.data()},
        contextLength, *s->pool);
  if (!s->executor) {
    gemc_session_free(s);
    return fail(GEMC_ERROR_MEMORY, "cannot allocate the session's memory plan");
  }
  *session = s;
  return GEMC_OK;
}

void gemc_session_free(gemc_session *session) {
  if (!session)
    return;
  std::free(session->kvCache);
  std::free(session->scratch);
  delete session;
}

gemc_status gemc_session_prefill(gemc_session *session, const int32_t *tokens, int64_t n,
                                 float *logits) {
  if (!session)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_session_prefill: null session");
  return evaluate(session, tokens, n, logits);
}

gemc_status gemc_session_decode(gemc_session *session, int32_t token, float *logits) {
  if (!session)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_session_decode: null session");
  return evaluate(session, &token, 1, logits);
}

const float *gemc_session_logits(const gemc_session *session) {
  if (!session || session->lastRow < 0)
    return nullptr;
  return session->logits.data() + session->lastRow * session->model->vocab;
}

int64_t gemc_session_position(const gemc_session *session) { return session->position; }
int64_t gemc_session_context(const gemc_session *session) { return session->contextLength; }
gemc_model *gemc_session_model(const gemc_session *session) { return session->model; }

void gemc_session_reset(gemc_session *session) {
  session->position = 0;
  session->lastRow = -1;
  session->text.reset();
}

int gemc_model_has_tokenizer(const gemc_model *model) { return model->tokenizer != nullptr; }

gemc_status gemc_model_tokenize(const gemc_model *model, const char *text, int32_t *ids,
                                int64_t capacity, int64_t *count) {
  if (!model || !text || !count || (capacity > 0 && !ids))
    return fail(GEMC_ERROR_ARGUMENT, "gemc_model_tokenize: null argument");
  if (!model->tokenizer)
    return fail(GEMC_ERROR_ARGUMENT, "the artifact has no tokenizer");
  std::vector<int32_t> encoded = model->tokenizer->encode(text);
  std::copy_n(encoded.begin(), std::min<int64_t>(capacity, int64_t(encoded.size())), ids);
  *count = int64_t(encoded.size());
  return GEMC_OK;
}

gemc_status gemc_model_render_chat(const gemc_model *model, const char *requestJson, char *out,
                                   size_t capacity, size_t *size) {
  if (!model || !requestJson || !size || (capacity > 0 && !out))
    return fail(GEMC_ERROR_ARGUMENT, "gemc_model_render_chat: null argument");
  JsonValue request;
  std::string text, error;
  if (!parseJson(requestJson, request, error))
    return fail(GEMC_ERROR_ARGUMENT, "gemc_model_render_chat: not valid JSON: " + error);
  if (!renderChat(request, model->chat, text, error))
    return fail(GEMC_ERROR_ARGUMENT, "gemc_model_render_chat: " + error);
  *size = text.size();
  if (capacity > 0) {
    size_t n = std::min(capacity - 1, text.size());
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
  }
  return GEMC_OK;
}

void gemc_model_sampling_defaults(const gemc_model *model, gemc_sampling *sampling) {
  *sampling = {1, 1.0f, 0, 1.0f, 0.0f, 1.0f, 0};
  if (const artifact::Generation *g = model->artifact->manifest().generation())
    *sampling = {!g->do_sample(), g->temperature(), g->top_k(), g->top_p(), g->min_p(),
                 g->repetition_penalty(), 0};
}

gemc_status gemc_session_generate(gemc_session *session, const char *prompt, int64_t maxTokens,
                                  const gemc_sampling *sampling, gemc_text_fn onText,
                                  void *user) {
  if (!session || !prompt)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_session_generate: null argument");
  auto feed = [&](std::string &error) { return textOf(session).feedText(prompt, error); };
  return generateAfter(session, feed, maxTokens, sampling, onText, user);
}

gemc_status gemc_session_chat(gemc_session *session, const char *system, const char *userText,
                              int32_t thinking, int64_t maxTokens, const gemc_sampling *sampling,
                              gemc_text_fn onText, void *user) {
  if (!session || !userText)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_session_chat: null argument");
  auto feed = [&](std::string &error) {
    return textOf(session).feedChatTurn(system ? system : "", userText, thinking != 0,
                                        session->model->chat, error);
  };
  return generateAfter(session, feed, maxTokens, sampling, onText, user);
}
int32_t gemc_session_threads(const gemc_session *session) {
  return int32_t(session->pool->size());
}

} // extern "C"
