/*===- gemc/runtime.h - The gemc runtime C API -----------------------------===*
 *
 * Loads a compiled gemc artifact and evaluates tokens with it. No LLVM or MLIR is needed to use
 * it. Every function that can fail returns GEMC_OK or an error status; gemc_last_error() then
 * describes the failure for a person (thread-local, valid until the next call on that thread).
 * No C++ exception crosses this interface.
 *
 *   gemc_model *model;   gemc_model_open("model.gemc", &model);
 *   gemc_session *s;     gemc_session_create(model, 4096, 0, &s);
 *   gemc_session_prefill(s, prompt, n, NULL);          // logits of the last token kept
 *   const float *logits = gemc_session_logits(s);      // vocab_size values
 *   gemc_session_decode(s, next_token, NULL);
 *   gemc_session_free(s);  gemc_model_free(model);
 *===----------------------------------------------------------------------===*/
#ifndef GEMC_RUNTIME_H
#define GEMC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gemc_status {
  GEMC_OK = 0,
  GEMC_ERROR_IO = 1,        /* the file cannot be opened or mapped */
  GEMC_ERROR_INVALID = 2,   /* the artifact is damaged, of another version or another target */
  GEMC_ERROR_ARGUMENT = 3,  /* a bad argument: token id, context length, null pointer */
  GEMC_ERROR_CONTEXT = 4,   /* the call would run past the session's context length */
  GEMC_ERROR_MEMORY = 5,
} gemc_status;

typedef struct gemc_model gemc_model;
typedef struct gemc_session gemc_session;

const char *gemc_last_error(void);

/* Maps and verifies an artifact (header, manifest, every section's checksum, the target against
 * this CPU), then binds its code. Nothing of the artifact runs before verification. */
gemc_status gemc_model_open(const char *path, gemc_model **model);
void gemc_model_free(gemc_model *model);
int64_t gemc_model_vocab_size(const gemc_model *model);
int64_t gemc_model_max_context(const gemc_model *model);
/* The KV-cache bytes a session of this context length allocates. */
uint64_t gemc_model_kv_bytes(const gemc_model *model, int64_t context_length);

/* Allocates the session's whole memory plan once and starts its worker threads (threads <= 0:
 * one per hardware thread). Generated code runs on all of them for every call. */
gemc_status gemc_session_create(gemc_model *model, int64_t context_length, int32_t threads,
                                gemc_session **session);
void gemc_session_free(gemc_session *session);
/* Evaluates n tokens at the current position. If `logits` is not NULL it receives
 * n * vocab_size floats, one row per token. */
gemc_status gemc_session_prefill(gemc_session *session, const int32_t *tokens, int64_t n,
                                 float *logits);
gemc_status gemc_session_decode(gemc_session *session, int32_t token, float *logits);
/* The logits of the last token evaluated (vocab_size floats), or NULL before any. */
const float *gemc_session_logits(const gemc_session *session);
int64_t gemc_session_position(const gemc_session *session);
int32_t gemc_session_threads(const gemc_session *session);

#ifdef __cplusplus
}
#endif

#endif /* GEMC_RUNTIME_H */
