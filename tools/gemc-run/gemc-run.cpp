//===- gemc-run.cpp - The runtime alone, as a command ----------------------===//
//
// `gemc-run run ARTIFACT ...` and `gemc-run chat ARTIFACT ...` do what `gemc run` and `gemc chat`
// do, but link only the runtime (no LLVM, no MLIR), so the program is small and can be built for
// another architecture (tests run an aarch64 build under qemu). `gemc-run ARTIFACT ...` means
// `run`.
//
// It is also the program inside every executable `gemc compile --emit exe` writes: when this
// file carries an artifact (runtime/ArtifactFormat.h, ExecutableTrailer), that is the model, the
// ARTIFACT argument goes away, and with no arguments at all it starts a chat.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "tools/runner/Runner.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr const char *kSelf = "/proc/self/exe";

/// The arguments with the subcommand made explicit when none is named: `run`, except that an
/// executable given no prompt chats.
std::vector<std::string> withSubcommand(int argc, char **argv, bool embedded) {
  std::vector<std::string> args(argv, argv + argc);
  bool named = argc > 1 && (args[1] == "run" || args[1] == "chat" || args[1] == "-h" ||
                            args[1] == "--help");
  bool prompt = std::any_of(args.begin() + 1, args.end(), [](const std::string &arg) {
    return arg == "-p" || arg == "--prompt" || arg == "--tokens";
  });
  if (!named)
    args.insert(args.begin() + 1, embedded && !prompt ? "chat" : "run");
  return args;
}

} // namespace

int main(int argc, char **argv) {
  bool embedded = gemc::MappedArtifact::looksLikeArtifact(kSelf);
  CLI::App app{embedded ? "A Gemma model compiled by gemc: chat with it, or run a prompt"
                        : "gemc-run: run a gemc artifact with the runtime alone"};
  app.require_subcommand(1);
  gemc::RunOptions run;
  gemc::ChatOptions chat;
  CLI::App *runCmd = app.add_subcommand("run", "Generate from a prompt (greedy by default)");
  CLI::App *chatCmd = app.add_subcommand("chat", "Chat in the terminal (or over stdin)");
  gemc::addRunOptions(*runCmd, run, !embedded);
  gemc::addChatOptions(*chatCmd, chat, !embedded);
  std::vector<std::string> args = withSubcommand(argc, argv, embedded);
  std::vector<char *> pointers;
  for (std::string &arg : args)
    pointers.push_back(arg.data());
  CLI11_PARSE(app, int(pointers.size()), pointers.data());
  if (embedded)
    run.artifact = chat.artifact = kSelf;
  std::string error;
  bool ok = runCmd->parsed() ? gemc::runCommand(run, error) : gemc::chatCommand(chat, error);
  if (!ok) {
    std::fprintf(stderr, "%s: error: %s\n", embedded ? argv[0] : "gemc-run", error.c_str());
    return 1;
  }
  return 0;
}
