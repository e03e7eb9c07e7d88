//===- ChatRequestFuzzer.cpp - Fuzzes the runtime's JSON parser and chat renderer -===//
//
// The input is a chat request as gemc_model_render_chat receives it: JSON, then rendered with
// both Gemma 4 chat variants, and as a raw user turn.

#include "runtime/ChatTemplate.h"
#include "runtime/Json.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  for (gemc::ChatVariant variant : {gemc::ChatVariant::Small, gemc::ChatVariant::Large})
    (void)gemc::renderNextUserTurn(text, variant, size % 2 == 0);
  gemc::JsonValue request;
  std::string error, out;
  if (!gemc::parseJson(text, request, error))
    return 0;
  for (gemc::ChatVariant variant : {gemc::ChatVariant::Small, gemc::ChatVariant::Large})
    (void)gemc::renderChat(request, variant, out, error);
  return 0;
}
