//===- ExecutionAbi.h - How a runtime executes generated code -------------===//
//
// The one description of how compiled code is run, for every target. A forward step is a list
// of dispatches (the artifact's dispatch table), run in order. Each dispatch names a kernel and
// its bindings: byte ranges of the five run-time buffers
//   weights   the weight section (read only)
//   kv_cache  the session's KV cache (its size grows with the context length C)
//   scratch   activations of one call, sized for max_chunk tokens
//   token_ids the call's ids (int32, max_chunk of them)
//   logits    the call's output rows (float, [R, vocab])
// and four parameters, the same for every dispatch of a call (Param below).
// A CPU kernel is a function that every worker of the pool calls with its number; the runtime
// waits for all of them between two dispatches (no kernel waits inside). A GPU runtime records
// the same list as launches. Plain C++ with no LLVM or MLIR dependency: the compiler, the
// runtime and the tests include it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cctype>
#include <cstdint>
#include <string>

namespace gemc {

enum class BufferKind : uint8_t { Weights, KvCache, Scratch, TokenIds, Logits };

/// A binding's byte range in its buffer, for a session of context length C:
/// [offset + perContextOffset * C, + bytes + perContextBytes * C).
struct BindingRange {
  BufferKind buffer = BufferKind::Weights;
  uint64_t offset = 0, perContextOffset = 0, bytes = 0, perContextBytes = 0;

  uint64_t offsetAt(int64_t contextLength) const {
    return offset + perContextOffset * uint64_t(contextLength);
  }
  uint64_t bytesAt(int64_t contextLength) const {
    return bytes + perContextBytes * uint64_t(contextLength);
  }
};

/// The parameters of a call, in the order kernels read them.
enum Param : int {
  kParamTokens,        // T: tokens in this call, 1..max_chunk
  kParamStartPos,      // P: position of the first of them
  kParamContextLength, // C: the session's context length
  kParamLogitsRows,    // R: rows of logits wanted, those of the last R tokens
  kParamCount
};

/// A CPU kernel: `bindings` holds one pointer per binding of its dispatch, in the table's
/// order; `params` kParamCount values.
using KernelFunction = void (*)(void *const *bindings, const int64_t *params, int64_t worker,
                                int64_t workers);

/// The symbol of dispatch `index`'s kernel, whose dispatch is called `name` ("attention_3.rope"
/// becomes gemc_k12_attention_3_rope): unique by the index, readable in a profile.
inline std::string kernelSymbol(size_t index, const std::string &name) {
  std::string symbol = "gemc_k" + std::to_string(index) + "_";
  for (char c : name)
    symbol += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return symbol;
}
constexpr const char *kKernelSymbolPrefix = "gemc_k";

/// The most bytes a GPU binding holds by default: Vulkan's least maxStorageBufferRange (2^27,
/// lavapipe's). Larger weights are bound as several parts of whole rows.
constexpr uint64_t kMaxGpuBindingBytes = 1ull << 27;

/// The entry point of every GPU kernel's SPIR-V module (one module a kernel).
constexpr const char *kSpirvEntryPoint = "main";

} // namespace gemc
