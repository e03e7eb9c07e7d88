//===- Runner.h - The run and chat commands, shared by gemc and executables ===//
//
// `gemc run`, `gemc chat`, the runtime-only `gemc-run` and every executable `gemc compile
// --emit exe` writes offer the same interface, defined once here on top of the runtime (no LLVM,
// so executables stay small):
//   run  ARTIFACT (-p TEXT | --tokens IDS) [-n N] [--dump-logits F] [sampling flags]
//   chat ARTIFACT [--system TEXT] [--think] [--tools FILE] [-n N] [sampling flags]
// Sampling: `run` is greedy unless a sampling flag is given (then the model's
// generation_config.json fills the unset ones); `chat` samples as generation_config.json says.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "gemc/runtime.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace gemc {

struct SamplingFlags {
  std::optional<double> temperature, topP, minP, repeatPenalty;
  std::optional<int64_t> topK;
  std::optional<uint64_t> seed;
  bool greedy = false;
};

struct RunOptions {
  std::string artifact, prompt, tokens, dumpLogits;
  int64_t generate = -1;     // -1: --tokens: none; -p: until an end id or the context is full
  int64_t contextLength = 0; // 0: what the prompt and -n need
  int64_t threads = 0;       // 0: one per hardware thread
  int32_t device = -1;       // a GPU artifact's Vulkan device; -1: the default choice
  bool verbose = false;
  SamplingFlags sampling;
};

struct ChatOptions {
  std::string artifact, system, toolsFile;
  bool think = false, verbose = false;
  int64_t generate = -1; // per reply; -1: until the end of the turn
  int64_t contextLength = 0;
  int64_t threads = 0;
  int32_t device = -1;
  SamplingFlags sampling;
};

/// An open runtime model and session, freed together.
struct OpenSession {
  gemc_model *model = nullptr;
  gemc_session *session = nullptr;
  ~OpenSession();
  /// These set `error` to the runtime's message on failure.
  bool openModel(const std::string &path, int32_t device, std::string &error);
  bool start(int64_t context, int64_t threads, std::string &error);
};

/// Adds --device N (a GPU artifact's Vulkan device, as `gemc inspect` lists them).
void addDeviceOption(CLI::App &command, int32_t &device);

/// Adds the flags of `run`/`chat` to `command`; `artifactArgument` adds the positional ARTIFACT
/// (executables carry theirs).
void addRunOptions(CLI::App &command, RunOptions &options, bool artifactArgument);
void addChatOptions(CLI::App &command, ChatOptions &options, bool artifactArgument);

/// Run the commands, printing to stdout/stderr; on failure return false and a message.
bool runCommand(const RunOptions &options, std::string &error);
bool chatCommand(const ChatOptions &options, std::string &error);

} // namespace gemc
