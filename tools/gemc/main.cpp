//===- main.cpp - The gemc command line -------------------------------------===//

#include "tools/gemc/Commands.h"

#include <CLI/CLI.hpp>
#include <llvm/Support/raw_ostream.h>

int main(int argc, char **argv) {
  CLI::App app{"gemc: an ahead-of-time compiler for Gemma 4 models"};
  app.require_subcommand(1);

  gemc::CompileOptions compile;
  CLI::App *compileCmd = app.add_subcommand("compile", "Compile a Hugging Face checkpoint");
  compileCmd->add_option("checkpoint", compile.checkpoint, "Checkpoint directory")->required();
  compileCmd->add_option("-o,--output", compile.output, "Output file")->required();
  compileCmd->add_option("--emit", compile.emit, "What to write")
      ->check(CLI::IsMember({"artifact", "mlir"}))
      ->capture_default_str();

  gemc::EvalOptions eval;
  CLI::App *evalCmd = app.add_subcommand(
      "eval", "Run a checkpoint in the reference interpreter (greedy decoding)");
  evalCmd->add_option("checkpoint", eval.checkpoint, "Checkpoint directory")->required();
  evalCmd->add_option("--tokens", eval.tokens, "Prompt token ids, comma-separated (no BOS added)")
      ->required();
  evalCmd->add_option("-n", eval.generate, "Tokens to generate greedily")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  evalCmd->add_option("--dump-logits", eval.dumpLogits,
                      "Write float32 logits, one row per evaluated position");

  CLI11_PARSE(app, argc, argv);

  llvm::Error error = compileCmd->parsed() ? gemc::runCompile(compile) : gemc::runEval(eval);
  if (error) {
    llvm::errs() << "gemc: error: " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}
