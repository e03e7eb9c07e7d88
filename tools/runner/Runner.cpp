//===- Runner.cpp - The run and chat commands, shared by gemc and executables =//

#include "tools/runner/Runner.h"

#include "gemc/runtime.h"
#include "tools/runner/Generation.h"
#include "runtime/TextSession.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>

namespace gemc {
namespace {

constexpr int64_t kDefaultContext = 4096;
constexpr const char *kNoTokenizer = "no tokenizer: the checkpoint had none, or this runtime was "
                                     "built without sentencepiece";

/// A whole number of at least `least`, with a message a person can read (CLI11's own range
/// checks print the double limits).
CLI::Validator atLeast(int64_t least) {
  return CLI::Validator(
      [least](std::string &text) -> std::string {
        char *end = nullptr;
        long long value = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || value < least)
          return "expected a whole number >= " + std::to_string(least) + ", found '" + text + "'";
        return "";
      },
      "N>=" + std::to_string(least));
}

void addSamplingOptions(CLI::App &command, SamplingFlags &flags) {
  command.add_option("--temp", flags.temperature, "Sampling temperature (0: greedy)")
      ->check(CLI::Range(0.0, 1e6));
  command.add_option("--top-k", flags.topK, "Sample from the k most likely tokens (0: all)")
      ->check(atLeast(0));
  command.add_option("--top-p", flags.topP, "Sample from the smallest set with this mass")
      ->check(CLI::Range(0.0, 1.0));
  command.add_option("--min-p", flags.minP, "Drop tokens below min-p times the top probability")
      ->check(CLI::Range(0.0, 1.0));
  command.add_option("--repeat-penalty", flags.repeatPenalty,
                     "Divide the logits of tokens already in the sequence (1: off)")
      ->check(CLI::Range(1e-6, 1e6));
  command.add_option("--seed", flags.seed, "Random seed: the same seed gives the same text");
  command.add_flag("--greedy", flags.greedy, "Always take the most likely token");
}

/// Flags over the model's values. Sampling is on if any flag asks for it, or by default when
/// `modelDecides` and the model's generation_config.json says do_sample.
gemc_sampling resolveSampling(const gemc_model *model, const SamplingFlags &f, bool modelDecides) {
  gemc_sampling s;
  gemc_model_sampling_defaults(model, &s);
  bool asked = f.temperature || f.topK || f.topP || f.minP || f.repeatPenalty || f.seed;
  s.greedy = f.greedy || (f.temperature && *f.temperature == 0) ||
             !(asked || (modelDecides && !s.greedy));
  s.temperature = float(f.temperature.value_or(s.temperature));
  s.top_k = int32_t(f.topK.value_or(s.top_k));
  s.top_p = float(f.topP.value_or(s.top_p));
  s.min_p = float(f.minP.value_or(s.min_p));
  s.repetition_penalty = float(f.repeatPenalty.value_or(s.repetition_penalty));
  s.seed = f.seed ? *f.seed : std::random_device()() * 0x100000001ull;
  return s;
}

void addSessionOptions(CLI::App &command, int64_t &context, int64_t &threads,
                       const char *contextHelp) {
  command.add_option("--context", context, contextHelp)->check(atLeast(1));
  command.add_option("-t,--threads", threads, "Worker threads (default: all hardware threads)")
      ->check(atLeast(0));
}

void printStats(const GenerationStats &stats, StopReason reason) {
  auto rate = [](int64_t n, double s) { return s > 0 ? double(n) / s : 0.0; };
  std::fprintf(stderr,
               "[prompt: %lld tokens, %.2f s, %.1f tok/s | generation: %lld tokens, %.2f s, "
               "%.1f tok/s | stop: %s]\n",
               (long long)stats.promptTokens, stats.promptSeconds,
               rate(stats.promptTokens, stats.promptSeconds), (long long)stats.generatedTokens,
               stats.generateSeconds, rate(stats.generatedTokens, stats.generateSeconds),
               describe(reason));
}

/// `run --tokens`: ids in, ids out (design.md's contract, with the logits dump).
bool runTokens(const RunOptions &options, OpenSession &open, std::string &error) {
  int64_t vocab = gemc_model_vocab_size(open.model);
  std::vector<int32_t> prompt, generated;
  if (!parseTokenList(options.tokens, vocab, "--tokens", prompt, error))
    return false;
  int64_t count = std::max<int64_t>(options.generate, 0);
  int64_t context = options.contextLength ? options.contextLength
                                          : int64_t(prompt.size()) + std::max<int64_t>(count, 1);
  if (!open.start(context, options.threads, error))
    return false;
  std::vector<float> logits;
  bool allRows = !options.dumpLogits.empty(); // otherwise only the last row is read
  auto evaluate = [&](const std::vector<int32_t> &ids, std::vector<float> &rows, std::string &e) {
    size_t at = allRows ? rows.size() : 0; // without a dump only the last row is read
    rows.resize(at + (allRows ? ids.size() : 1) * size_t(vocab));
    if (gemc_session_prefill(open.session, ids.data(), int64_t(ids.size()),
                             allRows ? rows.data() + at : nullptr) != GEMC_OK) {
      e = gemc_last_error();
      return false;
    }
    if (!allRows)
      std::copy_n(gemc_session_logits(open.session), vocab, rows.data() + at);
    return true;
  };
  Sampler sampler(samplingParams(resolveSampling(open.model, options.sampling, false)));
  if (!generateTokens(evaluate, prompt, count, vocab, sampler, generated, logits, error) ||
      (allRows && !writeLogits(options.dumpLogits, logits, error)))
    return false;
  printTokenList(generated);
  return true;
}

/// Set by Ctrl-C during a chat reply: the reply stops, the chat goes on.
volatile std::sig_atomic_t interrupted = 0;

void onInterrupt(int) { interrupted = 1; }

bool printText(int32_t, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return !interrupted;
}

/// `run -p`: text in, streamed text out.
bool runText(const RunOptions &options, OpenSession &open, std::string &error) {
  int64_t count = 0;
  gemc_model_tokenize(open.model, options.prompt.c_str(), nullptr, 0, &count);
  int64_t max = gemc_model_max_context(open.model);
  int64_t context = options.contextLength ? options.contextLength
                    : options.generate >= 0 ? std::min(max, count + 1 + options.generate)
                                            : std::min(max, std::max(kDefaultContext, count + 1));
  if (!open.start(context, options.threads, error))
    return false;
  TextSession text(open.session, artifactTokenizer(open.model), artifactStopIds(open.model));
  gemc_sampling sampling = resolveSampling(open.model, options.sampling, false);
  Sampler sampler(samplingParams(sampling));
  StopReason reason;
  if (text.feedText(options.prompt, error) != GEMC_OK ||
      text.generate(options.generate, sampler, printText, reason, error) != GEMC_OK)
    return false;
  std::printf("\n");
  if (reason == StopReason::ContextFull)
    std::fprintf(stderr, "note: the context of %lld tokens is full (--context raises it)\n",
                 (long long)gemc_session_context(open.session));
  if (options.verbose && !sampling.greedy)
    std::fprintf(stderr, "[seed %llu]\n", (unsigned long long)sampling.seed);
  printStats(text.stats(), reason);
  return true;
}

/// The tool declarations of `--tools`: a JSON list (OpenAI style, {"type": "function",
/// "function": {...}}, or bare function objects).
bool readTools(const std::string &path, JsonValue &tools, std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = path + ": cannot open";
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!parseJson(text, tools, error)) {
    error = path + ": not valid JSON: " + error;
    return false;
  }
  for (const JsonValue &tool : tools.items)
    if (!tool.isObject() || !(tool.get("name") || tool.get("function"))) {
      error = path + ": every tool needs a \"name\" (or a \"function\" object with one)";
      return false;
    }
  if (!tools.isArray())
    error = path + ": expected a list of tool declarations";
  return tools.isArray();
}

bool readLine(bool interactive, std::string &line) {
  if (interactive)
    std::fprintf(stderr, "> ");
  return bool(std::getline(std::cin, line));
}

} // namespace

OpenSession::~OpenSession() {
  gemc_session_free(session);
  gemc_model_free(model);
}

bool OpenSession::openModel(const std::string &path, int32_t device, std::string &error) {
  if (gemc_model_open_device(path.c_str(), device, &model) == GEMC_OK)
    return true;
  error = gemc_last_error();
  return false;
}

bool OpenSession::start(int64_t context, int64_t threads, std::string &error) {
  if (gemc_session_create(model, context, int32_t(threads), &session) == GEMC_OK)
    return true;
  error = gemc_last_error();
  return false;
}

void addDeviceOption(CLI::App &command, int32_t &device) {
  command.add_option("--device", device,
                     "GPU artifacts: the Vulkan device's index (default: the first discrete "
                     "GPU, else integrated, else any)")
      ->check(CLI::NonNegativeNumber);
}

void addRunOptions(CLI::App &command, RunOptions &options, bool artifactArgument) {
  if (artifactArgument)
    command.add_option("artifact", options.artifact, "Artifact from gemc compile")->required();
  CLI::Option *prompt = command.add_option("-p,--prompt", options.prompt,
                                           "Prompt text (a <bos> is put first)");
  CLI::Option *tokens = command.add_option("--tokens", options.tokens,
                                           "Prompt token ids, comma-separated (no BOS added)");
  prompt->excludes(tokens);
  command.add_option("-n", options.generate,
                     "Tokens to generate (with -p, default: until an end id)")
      ->check(atLeast(0));
  command.add_option("--dump-logits", options.dumpLogits,
                     "With --tokens: write float32 logits, one row per evaluated position")
      ->needs(tokens);
  addSessionOptions(command, options.contextLength, options.threads,
                    "Context length of the session (default: what the prompt and -n need)");
  addDeviceOption(command, options.device);
  command.add_flag("-v,--verbose", options.verbose, "Print the seed");
  addSamplingOptions(command, options.sampling);
  command.callback([prompt, tokens] {
    if (!prompt->count() && !tokens->count())
      throw CLI::RequiredError("-p or --tokens");
  });
}

void addChatOptions(CLI::App &command, ChatOptions &options, bool artifactArgument) {
  if (artifactArgument)
    command.add_option("artifact", options.artifact, "Artifact from gemc compile")->required();
  command.add_option("--system", options.system, "System instructions");
  command.add_flag("--think", options.think, "Let the model think before it answers");
  command.add_option("--tools", options.toolsFile,
                     "JSON file: a list of function declarations the model may call");
  command.add_option("-n", options.generate, "Most tokens per reply (default: until its end)")
      ->check(atLeast(0));
  addSessionOptions(command, options.contextLength, options.threads,
                    "Context length (default: 4096)");
  addDeviceOption(command, options.device);
  command.add_flag("-v,--verbose", options.verbose, "Print speed after every reply");
  addSamplingOptions(command, options.sampling);
}

bool runCommand(const RunOptions &options, std::string &error) {
  OpenSession open;
  if (!open.openModel(options.artifact, options.device, error))
    return false;
  if (!options.tokens.empty())
    return runTokens(options, open, error);
  if (!gemc_model_has_tokenizer(open.model)) {
    error = options.artifact + ": " + kNoTokenizer + ": use --tokens";
    return false;
  }
  return runText(options, open, error);
}

bool chatCommand(const ChatOptions &options, std::string &error) {
  OpenSession open;
  if (!open.openModel(options.artifact, options.device, error) ||
      !open.start(options.contextLength
                      ? options.contextLength
                      : std::min(kDefaultContext, gemc_model_max_context(open.model)),
                  options.threads, error))
    return false;
  if (!gemc_model_has_tokenizer(open.model)) {
    error = options.artifact + ": " + kNoTokenizer;
    return false;
  }
  JsonValue tools;
  if (!options.toolsFile.empty() && !readTools(options.toolsFile, tools, error))
    return false;
  bool interactive = isatty(STDIN_FILENO);
  if (interactive) {
    std::fprintf(stderr, "Chatting with %s. Ctrl-C stops a reply, /reset starts over, /exit or "
                         "Ctrl-D quits.\n",
                 options.artifact.c_str());
    std::signal(SIGINT, onInterrupt);
  }
  gemc_sampling sampling = resolveSampling(open.model, options.sampling, true);
  Sampler sampler(samplingParams(sampling));
  auto newConversation = [&] {
    return std::make_unique<TextSession>(open.session, artifactTokenizer(open.model),
                                         artifactStopIds(open.model));
  };
  std::unique_ptr<TextSession> text = newConversation();
  ChatVariant variant = artifactChatVariant(open.model);
  for (std::string line; readLine(interactive, line);) {
    if (line == "/exit")
      break;
    if (line == "/reset" || line.find_first_not_of(" \t\r") == std::string::npos) {
      if (line == "/reset") {
        gemc_session_reset(open.session);
        text = newConversation();
      }
      continue;
    }
    text->resetStats();
    interrupted = 0;
    StopReason reason;
    gemc_status status = text->feedChatTurn(options.system, line, options.think, variant, error,
                                            options.toolsFile.empty() ? nullptr : &tools);
    if (status == GEMC_ERROR_CONTEXT) {
      std::fprintf(stderr, "The conversation no longer fits the context of %lld tokens: /reset "
                           "starts a new one (--context makes it longer).\n",
                   (long long)gemc_session_context(open.session));
      continue;
    }
    if (status != GEMC_OK ||
        text->generate(options.generate, sampler, printText, reason, error) != GEMC_OK)
      return false;
    std::printf("\n");
    std::fflush(stdout);
    if (reason == StopReason::ContextFull)
      std::fprintf(stderr, "[the context is full: /reset starts a new conversation]\n");
    if (options.verbose)
      printStats(text->stats(), reason);
  }
  return true;
}

} // namespace gemc
