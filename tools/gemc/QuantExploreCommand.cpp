//===- QuantExploreCommand.cpp - gemc quant-explore -------------------------===//
//
// Compiles a checkpoint once unquantized (the reference: its own dtypes, computed in f32) and
// once per quantization config, then measures each artifact: size on disk, weight bytes read per
// decode token, prefill and decode speed, and accuracy on a token set against the reference —
// the KL divergence of the next-token distributions (mean and 99th percentile over positions),
// how often the most likely token agrees, and the perplexity of the set. Results go to stdout
// as a markdown table and to DIR/report.md, DIR/report.csv and DIR/size-vs-kl.svg. Configs are
// compared in one process, one after another, so their speeds come from the same machine state.
//
//===----------------------------------------------------------------------===//

#include "compiler/quant/QuantConfig.h"
#include "runtime/common/Error.h"
#include "runtime/Artifact.h"
#include "tools/gemc/Commands.h"
#include "tools/gemc/Common.h"
#include "tools/gemc/Measure.h"

#include <llvm/ADT/ScopeExit.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace gemc {
namespace {

/// The token set when none is given: plain English prose, enough for a few hundred tokens.
constexpr const char *kDefaultText =
    "The harbor town woke slowly that winter. Fishing boats stayed tied to the pier while the "
    "wind pushed grey water against the stones, and the baker opened her shop an hour late "
    "because the flour delivery had not arrived. Children walked to school in pairs, counting "
    "the gulls on the roof of the old customs house. At noon the weather turned: the clouds "
    "broke apart, the sea went from grey to green, and by two o'clock three boats had left the "
    "harbor. The harbor master wrote their names in his ledger, as he had done every day for "
    "thirty years, and noted the time, the wind and the height of the tide. In the evening the "
    "boats came back with less fish than anyone hoped for, but nobody complained. A good day, "
    "the old captains said, is one where every boat comes home. Later, in the kitchen of the "
    "inn, the cook explained to a visitor how a fish soup is made: onions first, slowly, then "
    "tomatoes, garlic and a little saffron; the fish goes in last and cooks for only a few "
    "minutes, because nothing ruins a soup faster than fish that has fallen apart. The visitor "
    "asked whether the recipe was written down anywhere. It was not. It had been passed from "
    "one cook to the next for as long as the inn had stood, and each of them had changed it a "
    "little, adding a herb or taking one away, so that the soup of today tasted of all of them "
    "at once. Outside, the lighthouse began to turn, and the town went quiet again.";

/// One line of the report.
struct Measured {
  std::string label, source;
  uint64_t artifactBytes = 0, bytesPerToken = 0;
  Speed speed;
  double klMean = 0, klP99 = 0, top1 = 1, perplexity = 0;
};

/// A config on the command line: a format name or a config file.
struct Candidate {
  std::string label;
  QuantOptions quant;
};

llvm::Expected<std::vector<Candidate>> readCandidates(const std::vector<std::string> &configs) {
  std::vector<Candidate> out;
  for (const std::string &config : configs) {
    Candidate candidate{config, {}};
    if (parseWeightFormat(config)) {
      candidate.quant.format = config;
      out.push_back(candidate);
      continue;
    }
    if (!llvm::sys::fs::exists(config))
      return makeError("--configs: '{}' is neither a format ({}) nor an existing config file",
                       config, weightFormatNames());
    llvm::Expected<QuantConfig> parsed = QuantConfig::load(config); // fail before any compile
    if (!parsed)
      return parsed.takeError();
    candidate.label = llvm::sys::path::stem(config).str();
    candidate.quant.configFile = config;
    out.push_back(candidate);
  }
  return out;
}

/// A progress bar on a terminal, one line per step otherwise.
class Progress {
public:
  explicit Progress(int total) : total_(total), terminal_(isatty(STDERR_FILENO)) {}
  ~Progress() {
    if (terminal_)
      llvm::errs() << "\n";
  }
  void step(const std::string &what) {
    ++done_;
    constexpr int kWidth = 30;
    int filled = kWidth * (done_ - 1) / total_;
    std::string bar = std::string(size_t(filled), '#') + std::string(size_t(kWidth - filled), '.');
    if (terminal_)
      llvm::errs() << fmt::format("\r\x1b[K[{}] {}/{} {}", bar, done_, total_, what);
    else
      llvm::errs() << fmt::format("[{}/{}] {}\n", done_, total_, what);
  }

private:
  int total_, done_ = 0;
  bool terminal_;
};

llvm::Error runtimeError(const std::string &what) {
  return makeError("{}: {}", what, gemc_last_error());
}

/// The token set: ids from --tokens, else the text of --text (or the built-in text) tokenized
/// with the checkpoint's tokenizer, BOS first; at most `limit` tokens.
llvm::Expected<std::vector<int32_t>> tokenSet(const QuantExploreOptions &options,
                                              gemc_model *model, int64_t limit) {
  std::vector<int32_t> ids;
  int64_t vocab = gemc_model_vocab_size(model);
  if (!options.tokens.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(options.tokens);
    if (!buffer)
      return makeError("{}: cannot read: {}", options.tokens, buffer.getError().message());
    std::string text = (*buffer)->getBuffer().trim().str();
    std::replace_if(text.begin(), text.end(), [](char c) { return std::isspace(c); }, ',');
    llvm::Expected<std::vector<int32_t>> parsed =
        parseTokenIds(text, vocab, options.tokens);
    if (!parsed)
      return parsed.takeError();
    ids = std::move(*parsed);
  } else {
    std::string text = kDefaultText;
    if (!options.text.empty()) {
      auto buffer = llvm::MemoryBuffer::getFile(options.text);
      if (!buffer)
        return makeError("{}: cannot read: {}", options.text, buffer.getError().message());
      text = (*buffer)->getBuffer().str();
    }
    if (!gemc_model_has_tokenizer(model))
      return makeError("{} has no tokenizer: give the token set as ids with --tokens FILE",
                       options.checkpoint);
    int64_t count = 0;
    gemc_model_tokenize(model, text.c_str(), nullptr, 0, &count);
    ids.resize(size_t(count) + 1);
    ids[0] = artifactOf(model).manifest().model()->bos_token_id();
    if (gemc_model_tokenize(model, text.c_str(), ids.data() + 1, count, &count) != GEMC_OK)
      return runtimeError(options.text.empty() ? "the built-in text" : options.text);
  }
  if (int64_t(ids.size()) > limit)
    ids.resize(size_t(limit));
  if (ids.size() < 2)
    return makeError("the token set needs at least 2 tokens, found {}", ids.size());
  return ids;
}

/// log_softmax of one row of logits, in double.
std::vector<double> logSoftmax(const float *logits, int64_t vocab) {
  double maximum = *std::max_element(logits, logits + vocab), sum = 0;
  for (int64_t i = 0; i < vocab; ++i)
    sum += std::exp(double(logits[i]) - maximum);
  double shift = maximum + std::log(sum);
  std::vector<double> out(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i)
    out[size_t(i)] = double(logits[i]) - shift;
  return out;
}

/// Evaluates the token set: logits of every position, [tokens, vocab].
llvm::Expected<std::vector<float>> evaluateSet(gemc_session *session,
                                               const std::vector<int32_t> &ids) {
  gemc_session_reset(session);
  int64_t vocab = gemc_model_vocab_size(gemc_session_model(session));
  std::vector<float> logits(ids.size() * size_t(vocab));
  if (gemc_session_prefill(session, ids.data(), int64_t(ids.size()), logits.data()) != GEMC_OK)
    return runtimeError("evaluating the token set");
  return logits;
}

/// KL(reference || candidate) per position, top-1 agreement and the candidate's perplexity.
void compareTo(const std::vector<float> &reference, const std::vector<float> &candidate,
               const std::vector<int32_t> &ids, int64_t vocab, Measured &out) {
  std::vector<double> kl;
  double agree = 0, nll = 0;
  int64_t positions = int64_t(ids.size()) - 1; // the last position predicts nothing in the set
  for (int64_t t = 0; t < positions; ++t) {
    const float *p = reference.data() + t * vocab, *q = candidate.data() + t * vocab;
    std::vector<double> logP = logSoftmax(p, vocab), logQ = logSoftmax(q, vocab);
    double divergence = 0;
    for (int64_t i = 0; i < vocab; ++i)
      divergence += std::exp(logP[size_t(i)]) * (logP[size_t(i)] - logQ[size_t(i)]);
    kl.push_back(std::max(divergence, 0.0));
    agree += std::max_element(p, p + vocab) - p == std::max_element(q, q + vocab) - q;
    nll -= logQ[size_t(ids[size_t(t + 1)])];
  }
  std::sort(kl.begin(), kl.end());
  double sum = 0;
  for (double value : kl)
    sum += value;
  out.klMean = sum / double(positions);
  out.klP99 = kl[size_t(std::ceil(0.99 * double(positions))) - 1]; // nearest rank
  out.top1 = agree / double(positions);
  out.perplexity = std::exp(nll / double(positions));
}

std::string markdownTable(const std::vector<Measured> &rows, int64_t tokens) {
  std::string out = fmt::format(
      "| config | artifact MiB | weights read / token MB | prefill tok/s | decode tok/s | KL mean "
      "| KL p99 | top-1 agreement | perplexity ({} tokens) |\n|---|---:|---:|---:|---:|---:|---:|"
      "---:|---:|\n",
      tokens);
  for (const Measured &r : rows)
    out += fmt::format("| {} | {:.1f} | {:.1f} | {:.2f} | {:.2f} | {:.5f} | {:.5f} | {:.1f}% | "
                       "{:.5g} |\n",
                       r.label, double(r.artifactBytes) / (1 << 20), double(r.bytesPerToken) / 1e6,
                       r.speed.prefillTokensPerSecond, r.speed.decodeTokensPerSecond, r.klMean,
                       r.klP99, 100 * r.top1, r.perplexity);
  return out;
}

std::string csvTable(const std::vector<Measured> &rows) {
  std::string out = "config,source,artifact_bytes,weight_bytes_per_token,prefill_tok_s,"
                    "decode_tok_s,kl_mean,kl_p99,top1_agreement,perplexity\n";
  for (const Measured &r : rows)
    out += fmt::format("{},{},{},{},{:.3f},{:.3f},{:.6g},{:.6g},{:.4f},{:.5f}\n", r.label, r.source,
                       r.artifactBytes, r.bytesPerToken, r.speed.prefillTokensPerSecond,
                       r.speed.decodeTokensPerSecond, r.klMean, r.klP99, r.top1, r.perplexity);
  return out;
}

std::string escapeXml(const std::string &text) {
  std::string out;
  for (char c : text)
    out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}

/// Size against mean KL divergence (log scale), one labelled point per config.
std::string svgPlot(const std::vector<Measured> &rows) {
  constexpr double kWidth = 640, kHeight = 420, kLeft = 80, kRight = 30, kTop = 30, kBottom = 60;
  double maxSize = 0, lowKl = 1e300, highKl = 0;
  for (const Measured &r : rows) {
    maxSize = std::max(maxSize, double(r.artifactBytes) / (1 << 20));
    if (r.klMean > 0) {
      lowKl = std::min(lowKl, r.klMean);
      highKl = std::max(highKl, r.klMean);
    }
  }
  if (highKl == 0)
    lowKl = highKl = 1e-6;
  double lowDecade = std::floor(std::log10(lowKl)), highDecade = std::ceil(std::log10(highKl));
  if (highDecade <= lowDecade)
    highDecade = lowDecade + 1;
  maxSize = maxSize > 0 ? maxSize * 1.1 : 1;
  auto x = [&](double mib) { return kLeft + mib / maxSize * (kWidth - kLeft - kRight); };
  auto y = [&](double kl) {
    double decade = std::log10(std::max(kl, std::pow(10.0, lowDecade)));
    return kHeight - kBottom -
           (decade - lowDecade) / (highDecade - lowDecade) * (kHeight - kTop - kBottom);
  };
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{0}\" height=\"{1}\" "
      "fill=\"white\"/>\n",
      kWidth, kHeight);
  double axisY = kHeight - kBottom;
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n"
                     "<line x1=\"{0}\" y1=\"{3}\" x2=\"{0}\" y2=\"{1}\" stroke=\"black\"/>\n",
                     kLeft, axisY, kWidth - kRight, kTop);
  for (int i = 0; i <= 5; ++i) {
    double mib = maxSize * i / 5;
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:.0f}</text>\n",
                       x(mib), axisY + 18, mib);
  }
  for (double d = lowDecade; d <= highDecade; ++d)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">1e{:.0f}</text>\n",
                       kLeft - 6, y(std::pow(10.0, d)) + 4, d);
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">artifact size "
                     "(MiB)</text>\n",
                     (kLeft + kWidth - kRight) / 2, kHeight - 20);
  out += fmt::format("<text transform=\"translate(20 {:.1f}) rotate(-90)\" text-anchor=\"middle\">"
                     "mean KL divergence vs reference</text>\n",
                     (kTop + axisY) / 2);
  for (const Measured &r : rows) {
    double px = x(double(r.artifactBytes) / (1 << 20)), py = y(r.klMean);
    out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"#1f77b4\"/>\n"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                       px, py, px + 7, py - 6, escapeXml(r.label));
  }
  return out + "</svg>\n";
}

uint64_t fileSize(const std::string &path) {
  uint64_t size = 0;
  llvm::sys::fs::file_size(path, size);
  return size;
}

} // namespace

llvm::Error runQuantExplore(const QuantExploreOptions &options) {
  llvm::Expected<std::vector<Candidate>> candidates = readCandidates(options.configs);
  if (!candidates)
    return candidates.takeError();
  if (std::error_code ec = llvm::sys::fs::create_directories(options.outDir))
    return makeError("{}: cannot create the output directory: {}", options.outDir, ec.message());
  candidates->insert(candidates->begin(), Candidate{"reference", {}});
  auto sourceOf = [](const Candidate &c) {
    return !c.quant.format.empty()       ? c.quant.format
           : !c.quant.configFile.empty() ? c.quant.configFile
                                         : std::string("checkpoint dtypes");
  };
  Progress progress(int(candidates->size()) * 3);

  std::vector<Measured> rows;
  std::vector<float> referenceLogits;
  std::vector<int32_t> ids;
  for (const Candidate &candidate : *candidates) {
    Measured row;
    row.label = candidate.label;
    row.source = sourceOf(candidate);
    std::string artifact = options.outDir + "/" + candidate.label + ".gemc";
    llvm::scope_exit removeArtifact([&] {
      if (!options.keep)
        llvm::sys::fs::remove(artifact);
    });
    progress.step(fmt::format("{}: compiling", candidate.label));
    CompileOptions compile;
    compile.checkpoint = options.checkpoint;
    compile.output = artifact;
    compile.target = options.target;
    compile.quant = candidate.quant;
    if (llvm::Expected<CompileReport> report = compileCheckpoint(compile); !report)
      return report.takeError();
    row.artifactBytes = fileSize(artifact);

    progress.step(fmt::format("{}: evaluating the token set", candidate.label));
    OpenSession rt;
    std::string error;
    if (!rt.openModel(artifact, /*device=*/-1, error))
      return makeError("{}", error);
    if (ids.empty()) {
      int64_t limit = gemc_model_max_context(rt.model) - options.decodeTokens - 8;
      llvm::Expected<std::vector<int32_t>> set =
          tokenSet(options, rt.model, std::min(options.maxTokens, limit));
      if (!set)
        return set.takeError();
      ids = std::move(*set);
    }
    int64_t context = std::max<int64_t>(int64_t(ids.size()), 8 + options.decodeTokens);
    if (!rt.start(context, options.threads, error))
      return makeError("{}", error);
    llvm::Expected<std::vector<float>> logits = evaluateSet(rt.session, ids);
    if (!logits)
      return logits.takeError();
    if (referenceLogits.empty()) // the first candidate is the reference
      referenceLogits = *logits;
    compareTo(referenceLogits, *logits, ids, gemc_model_vocab_size(rt.model), row);

    progress.step(fmt::format("{}: measuring speed", candidate.label));
    row.bytesPerToken = weightBytesPerToken(artifactOf(rt.model).manifest());
    llvm::Expected<Speed> speed = measureSpeed(rt.session, 8, options.decodeTokens);
    if (!speed)
      return speed.takeError();
    row.speed = *speed;
    rows.push_back(row);
  }

  std::string table = markdownTable(rows, int64_t(ids.size()));
  std::string target = options.target;
  std::string report = fmt::format(
      "# Quantization configs of {}\n\nTarget {}; accuracy against the reference (the "
      "checkpoint's own dtypes) on {} tokens; speed from {} decoded tokens after an 8-token "
      "prompt, measured one config after another in one process.\n\n{}",
      options.checkpoint, target, ids.size(), options.decodeTokens, table);
  for (const auto &[name, text] :
       {std::pair<std::string, std::string>{"report.md", report}, {"report.csv", csvTable(rows)},
        {"size-vs-kl.svg", svgPlot(rows)}})
    if (llvm::Error error = writeFile(options.outDir + "/" + name, text))
      return error;
  llvm::outs() << table;
  llvm::errs() << fmt::format("\nwrote {0}/report.md, {0}/report.csv and {0}/size-vs-kl.svg\n",
                              options.outDir);
  return llvm::Error::success();
}

} // namespace gemc
