//===- Runtime.cpp - The gemc runtime C API -------------------------------===//
//
// Glue only (design.md invariant 1): verified artifact, one KV-cache allocation per session
// (invariant 4), and calls of the generated entry point in chunks of at most the plan's
// max_chunk tokens. Token ids and positions are checked here, at the API boundary.
//
//===----------------------------------------------------------------------===//

#include "gemc/runtime.h"

#include "runtime/Artifact.h"
#include "runtime/WorkerPool.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

using namespace gemc;

struct gemc_model {
  std::unique_ptr<MappedArtifact> artifact;
  ForwardFunction forward = nullptr;
  int64_t vocab = 0, maxContext = 0, maxChunk = 0;
};

struct gemc_session {
  gemc_model *model = nullptr;
  int64_t contextLength = 0, position = 0;
  void *kvCache = nullptr, *scratch = nullptr;
  uint64_t kvBytes = 0, scratchBytes = 0;
  std::unique_ptr<WorkerPool> pool;
  std::vector<float> logits; // [max_chunk, vocab]: the last call's rows
  int64_t lastRow = -1;
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
  uint64_t weightBytes = 0;
  auto *weights = const_cast<uint8_t *>(m.artifact->section("weights", &weightBytes));
  auto weightsDesc = vectorDescriptor(weights, int64_t(weightBytes));
  auto kvDesc = vectorDescriptor(static_cast<uint8_t *>(s->kvCache), int64_t(s->kvBytes));
  auto scratchDesc =
      vectorDescriptor(static_cast<uint8_t *>(s->scratch), int64_t(s->scratchBytes));
  for (int64_t done = 0; done < n;) {
    int64_t count = std::min(m.maxChunk, n - done);
    // Without an output buffer only the last row is needed: the generated code then skips the
    // vocabulary projection of the other tokens.
    int64_t rows = logitsOut ? count : 1;
    // The generated code only reads the ids: no copy, so a decode step allocates nothing.
    auto idsDesc = vectorDescriptor(const_cast<int32_t *>(tokens + done), count);
    auto logitsDesc = matrixDescriptor(s->logits.data(), rows, m.vocab);
    WorkerPool &pool = *s->pool;
    auto step = [&](int64_t worker) {
      m.forward(&idsDesc, s->position, s->contextLength, &weightsDesc, &kvDesc, &scratchDesc,
                &logitsDesc, worker, pool.size(), &WorkerPool::barrier, &pool);
    };
    pool.run(step);
    if (logitsOut)
      std::memcpy(logitsOut + done * m.vocab, s->logits.data(),
                  size_t(count * m.vocab) * sizeof(float));
    s->position += count;
    s->lastRow = rows - 1;
    done += count;
  }
  return GEMC_OK;
}

} // namespace

const MappedArtifact &gemc::artifactOf(const gemc_model *model) { return *model->artifact; }

extern "C" {

const char *gemc_last_error(void) { return lastError.c_str(); }

gemc_status gemc_model_open(const char *path, gemc_model **model) {
  if (!path || !model)
    return fail(GEMC_ERROR_ARGUMENT, "gemc_model_open: null argument");
  std::string error;
  std::unique_ptr<MappedArtifact> artifact = MappedArtifact::open(path, error);
  if (!artifact)
    return fail(error.find("cannot open") != std::string::npos ? GEMC_ERROR_IO
                                                               : GEMC_ERROR_INVALID,
                error);
  ForwardFunction forward = artifact->bindCode(error);
  if (!forward)
    return fail(GEMC_ERROR_INVALID, error);
  auto *m = new (std::nothrow) gemc_model();
  if (!m)
    return fail(GEMC_ERROR_MEMORY, "out of memory");
  m->vocab = artifact->manifest().model()->vocab_size();
  m->maxContext = artifact->manifest().model()->max_position_embeddings();
  m->maxChunk = artifact->manifest().plan()->max_chunk();
  m->artifact = std::move(artifact);
  m->forward = forward;
  *model = m;
  return GEMC_OK;
}

void gemc_model_free(gemc_model *model) { delete model; }
int64_t gemc_model_vocab_size(const gemc_model *model) { return model->vocab; }
int64_t gemc_model_max_context(const gemc_model *model) { return model->maxContext; }

uint64_t gemc_model_kv_bytes(const gemc_model *model, int64_t contextLength) {
  const artifact::MemoryPlan &plan = *model->artifact->manifest().plan();
  return plan.kv_fixed_bytes() + plan.kv_per_context_bytes() * uint64_t(contextLength);
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
  s->kvBytes = gemc_model_kv_bytes(model, contextLength);
  s->scratchBytes = model->artifact->manifest().plan()->scratch_bytes();
  s->kvCache = std::calloc(1, std::max<uint64_t>(s->kvBytes, 1));
  s->scratch = std::aligned_alloc(64, (std::max<uint64_t>(s->scratchBytes, 1) + 63) / 64 * 64);
  try {
    s->logits.resize(size_t(model->maxChunk * model->vocab));
    s->pool = std::make_unique<WorkerPool>(threads > 0 ? threads
                                                       : std::thread::hardware_concurrency());
  } catch (const std::exception &) {
    s->pool.reset();
  }
  if (!s->kvCache || !s->scratch || !s->pool) {
    gemc_session_free(s);
    return fail(GEMC_ERROR_MEMORY, "cannot allocate the session's memory plan and threads");
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
int32_t gemc_session_threads(const gemc_session *session) {
  return int32_t(session->pool->size());
}

} // extern "C"
