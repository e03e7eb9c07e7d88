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
 *
 * Text generation (artifacts compiled from a checkpoint with a tokenizer):
 *   gemc_sampling sampling;  gemc_model_sampling_defaults(model, &sampling);
 *   gemc_session_chat(s, NULL, "Hello!", 0, 256, &sampling, print_text, NULL);
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
  GEMC_ERROR_DEVICE = 6,    /* a GPU artifact without a usable device, or the device failed */
} gemc_status;

typedef struct gemc_model gemc_model;
typedef struct gemc_session gemc_session;

const char *gemc_last_error(void);

/* Maps and verifies an artifact (header, manifest, every section's checksum, the target against
 * this CPU), then binds its code. Nothing of the artifact runs before verification. */
gemc_status gemc_model_open(const char *path, gemc_model **model);
/* Like gemc_model_open; for a GPU artifact `device` picks the Vulkan device by index (-1: the
 * first discrete GPU, else an integrated one, else any, a CPU implementation last). A GPU
 * model holds its weights in device memory, uploaded here once. CPU artifacts ignore it. */
gemc_status gemc_model_open_device(const char *path, int32_t device, gemc_model **model);
/* The name of the Vulkan device a GPU model runs on; "" for CPU artifacts. */
const char *gemc_model_device_name(const gemc_model *model);
void gemc_model_free(gemc_model *model);
/* For libraries written by `gemc compile --emit lib` (their generated header wraps these): the
 * model's code is linked into the program (`kernels`: its table of kernel functions, one per
 * dispatch of the artifact), and the artifact is either linked in too (`artifact`, `size`
 * bytes) or read from `path`, which must hold the artifact compiled with that code (its
 * manifest checksum must be `manifest_checksum`). */
gemc_status gemc_model_open_linked(const void *artifact, uint64_t size, const void *kernels,
                                   gemc_model **model);
gemc_status gemc_model_open_file_linked(const char *path, uint64_t manifest_checksum,
                                        const void *kernels, gemc_model **model);
int64_t gemc_model_vocab_size(const gemc_model *model);
int64_t gemc_model_max_context(const gemc_model *model);
/* The KV-cache bytes a session of this context length allocates. */
uint64_t gemc_model_kv_bytes(const gemc_model *model, int64_t context_length);

/* Whether the artifact carries a tokenizer (needed by the text functions below). */
int gemc_model_has_tokenizer(const gemc_model *model);
/* Writes the ids of `text` (special tokens written in it, like "<bos>", become their ids; no
 * BOS is added) to ids[0..capacity) and their number to *count, which may exceed capacity. */
gemc_status gemc_model_tokenize(const gemc_model *model, const char *text, int32_t *ids,
                                int64_t capacity, int64_t *count);

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
int64_t gemc_session_context(const gemc_session *session);
int32_t gemc_session_threads(const gemc_session *session);
gemc_model *gemc_session_model(const gemc_session *session);
/* Forgets everything evaluated: the next call starts at position 0 (a new conversation). */
void gemc_session_reset(gemc_session *session);

/* How the next token is chosen. greedy != 0: the most likely token (ties: the lower id);
 * otherwise sampling with, in this order, the repetition penalty (1: off), temperature, top-k
 * (0: off), top-p (1: off) and min-p (0: off), from a generator seeded with `seed`. */
typedef struct gemc_sampling {
  int32_t greedy;
  float temperature;
  int32_t top_k;
  float top_p;
  float min_p;
  float repetition_penalty;
  uint64_t seed;
} gemc_sampling;

/* The sampling values of the model's generation_config.json (Hugging Face defaults for those
 * it leaves out), greedy unless it says do_sample; seed 0. */
void gemc_model_sampling_defaults(const gemc_model *model, gemc_sampling *sampling);

/* Renders a conversation in the model's chat template. `request_json` is what Hugging Face's
 * apply_chat_template takes: {"messages": [...], "tools": [...], "enable_thinking": bool,
 * "add_generation_prompt": bool}. Writes up to `capacity` bytes and a terminating NUL to `out`
 * (may be NULL with capacity 0) and the text's length to *size; the text is complete when
 * *size < capacity. Feed it to gemc_session_generate on an empty session. */
gemc_status gemc_model_render_chat(const gemc_model *model, const char *request_json, char *out,
                                   size_t capacity, size_t *size);

/* Receives generated text as it comes, in whole UTF-8 characters; returns nonzero to stop. */
typedef int (*gemc_text_fn)(const char *text, size_t size, void *user);

/* Tokenizes `prompt` (with <bos> first when the session is empty), evaluates it, then generates
 * up to max_tokens tokens (< 0: until an end id of the model or the end of the context),
 * calling on_text (may be NULL) with the text. GEMC_ERROR_CONTEXT if the prompt does not fit. */
gemc_status gemc_session_generate(gemc_session *session, const char *prompt, int64_t max_tokens,
                                  const gemc_sampling *sampling, gemc_text_fn on_text,
                                  void *user);

/* One turn of a chat in the model's chat template: the first call opens the conversation (with
 * the optional `system` text, and thinking if `thinking` != 0), later calls add the next user
 * turn after the model's last reply, reusing the KV cache. Then generates the reply. */
gemc_status gemc_session_chat(gemc_session *session, const char *system, const char *user,
                              int32_t thinking, int64_t max_tokens,
                              const gemc_sampling *sampling, gemc_text_fn on_text,
                              void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* GEMC_RUNTIME_H */
