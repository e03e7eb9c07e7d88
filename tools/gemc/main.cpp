//===- main.cpp - The gemc command line -------------------------------------===//

#include "tools/gemc/Commands.h"

#include <CLI/CLI.hpp>
#include <llvm/Support/raw_ostream.h>

namespace {

void addGenerationOptions(CLI::App *command, std::string &prompt, std::string &tokens,
                          int64_t &generate, std::string &dumpLogits) {
  CLI::Option *text = command->add_option(
      "-p,--prompt", prompt,
      "Prompt text (a <bos> is put first); each <|image|> or <|audio|> in it takes the next "
      "--image or --audio file, and files the text does not name go before it");
  CLI::Option *ids =
      command->add_option("--tokens", tokens, "Prompt token ids, comma-separated (no BOS added)");
  text->excludes(ids);
  command->callback([text, ids] {
    if (!text->count() && !ids->count())
      throw CLI::RequiredError("-p or --tokens");
  });
  command->add_option("-n", generate, "Tokens to generate greedily")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command->add_option("--dump-logits", dumpLogits,
                      "Write float32 logits, one row per evaluated position");
}

void addQuantOptions(CLI::App *command, gemc::QuantOptions &quant, const std::string &verb) {
  CLI::Option *format = command->add_option(
      "--quant", quant.format,
      verb + " every matrix in this format: f32, bf16, f16, q8_0, q4_0, q4_1, q8_ch");
  command
      ->add_option("--quant-config", quant.configFile,
                   verb + " matrices in the formats of a JSON or YAML quantization config")
      ->excludes(format);
  command
      ->add_option("--activations", quant.activations,
                   "int8: quantized matrices multiply int8 activations (integer dot products); "
                   "bf16: bf16 matrices multiply bf16 activations (vdpbf16ps); faster, not "
                   "bit-comparable with f32 runs; f32 (default)")
      ->check(CLI::IsMember({"f32", "int8", "bf16"}));
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"gemc: an ahead-of-time compiler for Gemma 4 models"};
  app.require_subcommand(1);

  gemc::CompileOptions compile;
  CLI::App *compileCmd = app.add_subcommand("compile", "Compile a Hugging Face checkpoint");
  compileCmd->add_option("checkpoint", compile.checkpoint, "Checkpoint directory")->required();
  compileCmd->add_option("-o,--output", compile.output, "Output file")->required();
  compileCmd
      ->add_option("--emit", compile.emit,
                   "artifact (for gemc run), exe (one self-contained executable), lib "
                   "(static library + C header), mlir (gemma module), llvm (LLVM dialect), obj "
                   "(object file), spirv (--target vulkan: a directory of .spv files)")
      ->check(CLI::IsMember({"artifact", "exe", "lib", "mlir", "llvm", "obj", "spirv"}))
      ->capture_default_str();
  compileCmd
      ->add_option("--target", compile.target,
                   "host, x86-64-v3, x86-64-v4, aarch64-neon, aarch64-dotprod, or vulkan (SPIR-V "
                   "compute shaders)")
      ->capture_default_str();
  compileCmd->add_option("--cpu", compile.cpu,
                         "Compile for this CPU (any LLVM CPU name of this machine's "
                         "architecture: znver4, sapphirerapids, ...) instead of the host: every "
                         "feature it implies that the runtime can check");
  compileCmd->add_option("--cpu-features", compile.cpuFeatures,
                         "Add or remove CPU features, in LLVM's spelling (+avxvnni,-avx512bf16), "
                         "with what they imply, on top of the target or --cpu: the kernels "
                         "follow (e.g. -avx512vnni: vpmaddubsw instead of vpdpbusd)");
  compileCmd->add_option("--max-chunk", compile.maxChunk, "Most tokens evaluated per call")
      ->capture_default_str();
  compileCmd
      ->add_option("--max-binding-bytes", compile.maxBindingBytes,
                   "--target vulkan: bind larger weights in parts (Vulkan guarantees 128 MiB)")
      ->capture_default_str();
  compileCmd
      ->add_option("--lib-weights", compile.libWeights,
                   "--emit lib: embedded (linked into the program) or file (read from the .gemc "
                   "written beside the library)")
      ->check(CLI::IsMember({"embedded", "file"}))
      ->capture_default_str();
  compileCmd
      ->add_option_function<uint64_t>(
          "--synthetic-weights", [&](const uint64_t &seed) { compile.syntheticSeed = seed; },
          "Read only config.json and write no weights: the runtime fills them with "
          "pseudo-random values from SEED (for benchmarking a shape without its weights)")
      ->type_name("SEED");
  addQuantOptions(compileCmd, compile.quant, "Store");

  gemc::EvalOptions eval;
  CLI::App *evalCmd = app.add_subcommand(
      "eval", "Run a checkpoint in the reference interpreter (greedy decoding)");
  evalCmd->add_option("checkpoint", eval.checkpoint, "Checkpoint directory")->required();
  addGenerationOptions(evalCmd, eval.prompt, eval.tokens, eval.generate, eval.dumpLogits);
  addQuantOptions(evalCmd, eval.quant, "Evaluate");
  evalCmd->add_option("--image", eval.images,
                      "A PNG or JPEG file for the next <|image|> in -p, or run of <|image|> "
                      "ids in --tokens (repeatable; each run must have the image's soft token "
                      "count)");
  evalCmd->add_option("--audio", eval.audio,
                      "A WAV file for the next <|audio|> in -p, or run of <|audio|> ids in "
                      "--tokens (repeatable; each run must have the clip's soft token count: "
                      "one per 40 ms)");
  evalCmd->add_option("--image-tokens", eval.imageTokens,
                      "Soft tokens per image at most: 70, 140, 280, 560 or 1120 (default: the "
                      "checkpoint's processor_config.json, else 280)")
      ->check(CLI::IsMember({70, 140, 280, 560, 1120}));

  gemc::RunOptions run;
  CLI::App *runCmd = app.add_subcommand("run", "Generate from a prompt with a compiled artifact");
  gemc::addRunOptions(*runCmd, run, /*artifactArgument=*/true);

  gemc::ChatOptions chat;
  CLI::App *chatCmd = app.add_subcommand("chat", "Chat with a compiled artifact in the terminal");
  gemc::addChatOptions(*chatCmd, chat, /*artifactArgument=*/true);

  gemc::BenchOptions bench;
  CLI::App *benchCmd = app.add_subcommand(
      "bench", "Measure prefill and decode speed against the machine's memory bandwidth");
  benchCmd->add_option("artifact", bench.artifact, "Artifact from gemc compile")->required();
  benchCmd->add_option("-p", bench.prompt, "Prompt tokens")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  benchCmd->add_option("-n", bench.generate, "Decoded tokens")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  benchCmd->add_option("-t,--threads", bench.threads, "Worker threads (default: all)")
      ->check(CLI::NonNegativeNumber);
  gemc::addDeviceOption(*benchCmd, bench.device);
  benchCmd->add_option("-o", bench.format, "md, csv or json")
      ->check(CLI::IsMember({"md", "csv", "json"}))
      ->capture_default_str();

  gemc::QuantExploreOptions explore;
  CLI::App *exploreCmd = app.add_subcommand(
      "quant-explore", "Compile a checkpoint with several quantization configs and compare "
                       "size, speed and accuracy against the unquantized model");
  exploreCmd->add_option("checkpoint", explore.checkpoint, "Checkpoint directory")->required();
  exploreCmd
      ->add_option("--configs", explore.configs,
                   "Formats (q4_0, ...) or JSON/YAML quantization configs to compare")
      ->required();
  CLI::Option *exploreTokens = exploreCmd->add_option(
      "--tokens", explore.tokens, "Token set: a file of token ids (commas or whitespace)");
  exploreCmd
      ->add_option("--text", explore.text,
                   "Token set: a text file, tokenized with the checkpoint's tokenizer (default: "
                   "a built-in English text)")
      ->excludes(exploreTokens);
  exploreCmd
      ->add_option("--max-tokens", explore.maxTokens, "Use at most this many tokens of the set")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20))
      ->capture_default_str();
  exploreCmd->add_option("-n", explore.decodeTokens, "Tokens decoded to measure speed")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  exploreCmd->add_option("-o,--output-dir", explore.outDir,
                         "Where report.md, report.csv and size-vs-kl.svg go")
      ->capture_default_str();
  exploreCmd->add_option("--target", explore.target, "host, x86-64-v3, x86-64-v4 (must run here)")
      ->capture_default_str();
  exploreCmd->add_option("-t,--threads", explore.threads, "Worker threads (default: all)")
      ->check(CLI::NonNegativeNumber);
  exploreCmd->add_flag("--keep", explore.keep, "Keep the compiled artifacts in the output dir");

  gemc::InspectOptions inspect;
  CLI::App *inspectCmd = app.add_subcommand("inspect", "Print an artifact's manifest");
  inspectCmd->add_option("artifact", inspect.artifact, "Artifact from gemc compile")->required();
  gemc::addDeviceOption(*inspectCmd, inspect.device);

  gemc::TokenizeOptions tokenize;
  CLI::App *tokenizeCmd = app.add_subcommand("tokenize", "Print the token ids of a text");
  tokenizeCmd
      ->add_option("path", tokenize.path,
                   "Checkpoint directory, tokenizer.json, tokenizer.model or artifact")
      ->required();
  CLI::Option *textOpt = tokenizeCmd->add_option("--text", tokenize.text, "The text");
  CLI::Option *fileOpt =
      tokenizeCmd->add_option("--file", tokenize.file, "A file holding the text");
  textOpt->excludes(fileOpt);
  tokenizeCmd->add_flag("--no-bos", tokenize.noBos, "Do not prepend <bos>");
  tokenizeCmd->callback([&] {
    if (!textOpt->count() && !fileOpt->count())
      throw CLI::RequiredError("--text or --file");
  });

  CLI11_PARSE(app, argc, argv);

  llvm::Error error = compileCmd->parsed() ? gemc::runCompile(compile)
                      : evalCmd->parsed()  ? gemc::runEval(eval)
                      : runCmd->parsed()   ? gemc::runRun(run)
                      : chatCmd->parsed()  ? gemc::runChat(chat)
                      : benchCmd->parsed() ? gemc::runBench(bench)
                      : tokenizeCmd->parsed() ? gemc::runTokenize(tokenize)
                      : exploreCmd->parsed()  ? gemc::runQuantExplore(explore)
                                           : gemc::runInspect(inspect);
  if (error) {
    llvm::errs() << "gemc: error: " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}
