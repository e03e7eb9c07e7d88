/* generate.c - text generation from a model compiled into a static library.
 *
 *   gemc compile CHECKPOINT --emit lib -o model.a      (writes model.a, model.h, model.gemc)
 *   cc generate.c model.a -lsentencepiece -ljpeg -lstdc++ -lm -lpthread -ldl -o generate
 *   ./generate "The river" 32 7              prompt, tokens, seed (weights linked in)
 *   ./generate "The river" 32 7 model.gemc   the same, weights read from the file
 *
 * With `--lib-weights file` nothing is linked in (MODEL_WEIGHTS_LINKED is 0) and the weights
 * come from model.gemc, or the file named.
 *
 * It samples with temperature 0.8, top-k 40 and top-p 0.95 from the given seed, so it prints the
 * same text as `gemc run model.gemc -p PROMPT -n TOKENS --temp 0.8 --top-k 40 --top-p 0.95
 * --seed SEED`.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>

static int print_text(const char *text, size_t size, void *user) {
  (void)user;
  fwrite(text, 1, size, stdout);
  fflush(stdout);
  return 0; /* nonzero would stop generation */
}

static int failed(const char *what) {
  fprintf(stderr, "generate: %s: %s\n", what, gemc_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: generate PROMPT TOKENS SEED [WEIGHTS.gemc]\n");
    return 2;
  }
  gemc_model *model = NULL;
  gemc_session *session = NULL;
#if MODEL_WEIGHTS_LINKED
  gemc_status status = argc > 4 ? model_open_file(argv[4], &model) : model_open(&model);
#else
  gemc_status status = model_open_file(argc > 4 ? argv[4] : "model.gemc", &model);
#endif
  if (status != GEMC_OK)
    return failed("cannot open the model");
  if (gemc_session_create(model, 512, 0, &session) != GEMC_OK)
    return failed("cannot create a session");

  gemc_sampling sampling;
  gemc_model_sampling_defaults(model, &sampling);
  sampling.greedy = 0;
  sampling.temperature = 0.8f;
  sampling.top_k = 40;
  sampling.top_p = 0.95f;
  sampling.min_p = 0.0f;
  sampling.repetition_penalty = 1.0f;
  sampling.seed = strtoull(argv[3], NULL, 10);
  if (gemc_session_generate(session, argv[1], atoll(argv[2]), &sampling, print_text, NULL) !=
      GEMC_OK)
    return failed("generation failed");
  printf("\n");
  gemc_session_free(session);
  gemc_model_free(model);
  return 0;
}
