//===- Interpreter.cpp - Reference interpreter of the gemma dialect -------===//

#include "dialects/gemma/interpreter/Interpreter.h"

#include "dialects/gemma/GemmaOps.h"
#include "runtime/common/Error.h"

#include <llvm/ADT/TypeSwitch.h>
#include <mlir/Dialect/Arith/IR/Arith.h>

#include <cmath>
#include <numeric>
#include <variant>

using namespace mlir;

namespace gemc::gemma {

Tensor::Tensor(std::vector<int64_t> dims) : shape(std::move(dims)) {
  data.assign(std::accumulate(shape.begin(), shape.end(), int64_t(1), std::multiplies<>()), 0.f);
}

int64_t argmax(const float *values, int64_t count) {
  return std::max_element(values, values + count) - values;
}

namespace {

/// A checkpoint tensor seen as [rows, rowSize] for the shape its gemma.weight op declares.
struct Weight {
  TensorView info;
  int64_t rowSize;                   // the last dimension
  std::optional<WeightFormat> format; // the values are those this format stores
  ActivationFormat activations = ActivationFormat::F32; // a product rounds its input to these

  int64_t rows() const { return info.numElements() / rowSize; }
  /// Decodes rows [first, first + count) to f32.
  std::vector<float> decodeRows(int64_t first, int64_t count = 1) const {
    std::vector<float> out(count * rowSize);
    unsigned size = dtypeSize(info.dtype);
    decodeToFloat(info.dtype, info.data + first * rowSize * size, count * rowSize, out.data());
    for (int64_t r = 0; format && r < count; ++r)
      roundTripRow(*format, out.data() + r * rowSize, rowSize);
    return out;
  }
  std::vector<float> decodeAll() const { return decodeRows(0, rows()); }
};

using Slot = std::variant<Tensor, std::vector<int32_t>, Weight, int64_t>;

double dot(const float *a, const float *b, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += double(a[i]) * double(b[i]);
  return sum;
}

float geluTanh(float x) {
  double v = x;
  return float(0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))));
}

/// y = x @ W[firstRow : firstRow + outRows]^T for x [T, in] and W seen as [N, in]; with
/// rounded activations, x's rows rounded as WeightFormat.h says first.
Tensor linear(const Tensor &x, const Weight &w, int64_t firstRow, int64_t outRows) {
  bool rounds = w.activations != ActivationFormat::F32;
  Tensor rounded;
  if (rounds) {
    rounded = x;
    for (int64_t t = 0; t < x.rows(); ++t)
      roundTripActivations(w.activations, rounded.row(t), w.rowSize);
  }
  const Tensor &input = rounds ? rounded : x;
  Tensor y({x.rows(), outRows});
  for (int64_t o = 0; o < outRows; ++o) {
    std::vector<float> row = w.decodeRows(firstRow + o);
    for (int64_t t = 0; t < x.rows(); ++t)
      y.row(t)[o] = float(dot(input.row(t), row.data(), w.rowSize));
  }
  return y;
}

Tensor linear(const Tensor &x, const Weight &w) { return linear(x, w, 0, w.rows()); }

/// RMSNorm of every `width` consecutive values of `data`, times `gain` if not empty.
void rmsNormInPlace(float *data, int64_t count, int64_t width, const std::vector<float> &gain,
                    double eps) {
  for (int64_t start = 0; start < count; start += width) {
    float *v = data + start;
    double scale = std::pow(dot(v, v, width) / double(width) + eps, -0.5);
    for (int64_t i = 0; i < width; ++i)
      v[i] = float(v[i] * scale * (gain.empty() ? 1.0 : double(gain[i])));
  }
}

/// Rotates channel pairs (c, c + headDim/2) of each head in place (rotate-half RoPE).
void applyRope(float *heads, int64_t numHeads, int64_t headDim, int64_t position,
               const std::vector<double> &invFreq) {
  int64_t half = headDim / 2;
  for (int64_t h = 0; h < numHeads; ++h) {
    float *x = heads + h * headDim;
    for (int64_t c = 0; c < half; ++c) {
      double angle = double(position) * invFreq[c], cos = std::cos(angle), sin = std::sin(angle);
      double a = x[c], b = x[c + half];
      x[c] = float(a * cos - b * sin);
      x[c + half] = float(b * cos + a * sin);
    }
  }
}

std::vector<double> ropeFrequencies(AttentionOp op) {
  int64_t headDim = op.getHeadDim(), half = headDim / 2, rotated = half;
  if (op.getRope() == RopeKind::Proportional) // int(factor * hd // 2), as Transformers computes
    rotated = int64_t(std::floor(op.getPartialRotaryFactor()->convertToDouble() * headDim / 2));
  double theta = op.getRopeTheta().convertToDouble();
  std::vector<double> invFreq(half, 0.0);
  for (int64_t c = 0; c < rotated; ++c)
    invFreq[c] = 1.0 / std::pow(theta, double(2 * c) / double(headDim));
  return invFreq;
}

float softcap(float x, double cap) { return float(cap * std::tanh(double(x) / cap)); }

} // namespace

/// The values of one call of the forward function.
class Interpreter::Frame {
public:
  explicit Frame(Interpreter &interp) : interp_(interp) {}

  void bind(Value value, Slot slot) { values_[value] = std::move(slot); }
  llvm::Expected<Tensor> run(Block &body);

private:
  const Tensor &tensor(Value v) { return std::get<Tensor>(values_[v]); }
  const std::vector<int32_t> &ids(Value v) { return std::get<std::vector<int32_t>>(values_[v]); }
  const Weight &weight(Value v) { return std::get<Weight>(values_[v]); }
  std::vector<float> weightValues(Value v) { return v ? weight(v).decodeAll() : std::vector<float>{}; }

  llvm::Error execute(Operation &op);
  llvm::Expected<Weight> loadWeight(WeightOp op);
  llvm::Expected<Tensor> embed(EmbedOp op);
  Tensor rmsNorm(RMSNormOp op);
  Tensor pleInputs(PleInputsOp op);
  Tensor pleInject(PleInjectOp op);
  llvm::Expected<Tensor> attention(AttentionOp op);
  llvm::Error appendKv(AttentionOp op, const Tensor &x, int64_t position);
  /// x @ w^T, clipped by projection `index`'s four bounds in `clip` when there are any.
  Tensor clippedLinear(const Tensor &x, Value w, OperandRange clip, int64_t index);
  Tensor mlp(MlpOp op);
  Tensor moe(MoeOp op);
  llvm::Expected<Tensor> patchEmbed(PatchEmbedOp op);
  Tensor visionAttention(VisionAttentionOp op);
  llvm::Expected<Tensor> visionPool(VisionPoolOp op);
  Tensor mediaProjection(MediaProjectionOp op);
  Tensor plainLinear(LinearOp op);
  Tensor audioSubsample(AudioSubsampleOp op);
  Tensor audioFeedForward(AudioFeedForwardOp op);
  Tensor audioAttention(AudioAttentionOp op);
  Tensor lightConv(LightConvOp op);
  Tensor layerScalar(LayerScalarOp op);
  Tensor lmHead(LmHeadOp op);
  Tensor add(arith::AddFOp op);

  Interpreter &interp_;
  llvm::DenseMap<Value, Slot> values_;
};

llvm::Expected<Tensor> Interpreter::Frame::run(Block &body) {
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (ret.getNumOperands() != 1)
        return makeError("interpreter: the forward function must return one tensor (logits)");
      return tensor(ret.getOperand(0));
    }
    if (llvm::Error error = execute(op))
      return error;
  }
  return makeError("interpreter: the forward function has no return");
}

llvm::Error Interpreter::Frame::execute(Operation &op) {
  auto wrap = [](Tensor t) -> llvm::Expected<Slot> { return Slot(std::move(t)); };
  auto wrapExpected = [](llvm::Expected<Tensor> t) -> llvm::Expected<Slot> {
    if (!t)
      return t.takeError();
    return Slot(std::move(*t));
  };
  llvm::Expected<Slot> result =
      llvm::TypeSwitch<Operation *, llvm::Expected<Slot>>(&op)
          .Case([&](WeightOp o) -> llvm::Expected<Slot> {
            llvm::Expected<Weight> w = loadWeight(o);
            if (!w)
              return w.takeError();
            return Slot(*w);
          })
          .Case([&](EmbedOp o) { return wrapExpected(embed(o)); })
          .Case([&](RMSNormOp o) { return wrap(rmsNorm(o)); })
          .Case([&](PleInputsOp o) { return wrap(pleInputs(o)); })
          .Case([&](PleInjectOp o) { return wrap(pleInject(o)); })
          .Case([&](AttentionOp o) { return wrapExpected(attention(o)); })
          .Case([&](MlpOp o) { return wrap(mlp(o)); })
          .Case([&](MoeOp o) { return wrap(moe(o)); })
          .Case([&](PatchEmbedOp o) { return wrapExpected(patchEmbed(o)); })
          .Case([&](VisionAttentionOp o) { return wrap(visionAttention(o)); })
          .Case([&](VisionPoolOp o) { return wrapExpected(visionPool(o)); })
          .Case([&](MediaProjectionOp o) { return wrap(mediaProjection(o)); })
          .Case([&](LinearOp o) { return wrap(plainLinear(o)); })
          .Case([&](AudioSubsampleOp o) { return wrap(audioSubsample(o)); })
          .Case([&](AudioFeedForwardOp o) { return wrap(audioFeedForward(o)); })
          .Case([&](AudioAttentionOp o) { return wrap(audioAttention(o)); })
          .Case([&](LightConvOp o) { return wrap(lightConv(o)); })
          .Case([&](LayerScalarOp o) { return wrap(layerScalar(o)); })
          .Case([&](LmHeadOp o) { return wrap(lmHead(o)); })
          .Case([&](arith::AddFOp o) { return wrap(add(o)); })
          .Default([&](Operation *other) -> llvm::Expected<Slot> {
            return makeError("interpreter: unsupported op '{}'",
                             other->getName().getStringRef().str());
          });
  if (!result)
    return result.takeError();
  bind(op.getResult(0), std::move(*result));
  return llvm::Error::success();
}

llvm::Expected<Weight> Interpreter::Frame::loadWeight(WeightOp op) {
  std::optional<TensorView> info = interp_.weights_(op.getName());
  auto type = cast<RankedTensorType>(op.getType());
  if (!info)
    return makeError("interpreter: checkpoint has no tensor '{}'", op.getName().str());
  ArrayRef<int64_t> shape = type.getShape();
  DType expected = dtypeOf(floatFormatOf(type.getElementType()));
  if (!llvm::equal(info->shape, shape) || info->dtype != expected)
    return makeError("interpreter: tensor '{}' is {} {} in the checkpoint but the IR says {} {}",
                     op.getName().str(), dtypeName(info->dtype), formatShape(info->shape),
                     dtypeName(expected), formatShape(shape));
  return Weight{*info, shape.empty() ? 1 : shape.back(),
                op.getFormat() ? std::optional(op.storedFormat()) : std::nullopt,
                op.activationFormat()};
}

/// Whether `id` is one of an op's media placeholder ids.
bool isPlaceholder(std::optional<ArrayRef<int32_t>> placeholders, int32_t id) {
  return placeholders && llvm::is_contained(*placeholders, id);
}

llvm::Expected<Tensor> Interpreter::Frame::embed(EmbedOp op) {
  const std::vector<int32_t> &tokens = ids(op.getIds());
  const Weight &table = weight(op.getTable());
  float scale = op.getScale().convertToFloat();
  const Tensor *media = op.getMedia() ? &tensor(op.getMedia()) : nullptr;
  Tensor x({int64_t(tokens.size()), table.rowSize});
  int64_t next = 0; // the media row of the next placeholder
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (isPlaceholder(op.getPlaceholders(), tokens[t])) {
      if (next == media->rows())
        return makeError("interpreter: the call has more media placeholder ids than the {} "
                         "media rows",
                         media->rows());
      std::copy_n(media->row(next++), table.rowSize, x.row(t));
      continue;
    }
    std::vector<float> row = table.decodeRows(tokens[t]);
    for (int64_t i = 0; i < table.rowSize; ++i)
      x.row(t)[i] = row[i] * scale;
  }
  if (media && next != media->rows())
    return makeError("interpreter: {} media rows for {} media placeholder ids", media->rows(),
                     next);
  return x;
}

Tensor Interpreter::Frame::rmsNorm(RMSNormOp op) {
  Tensor y = tensor(op.getInput());
  rmsNormInPlace(y.data.data(), int64_t(y.data.size()), y.shape.back(),
                 weightValues(op.getWeight()), op.getEps().convertToDouble());
  return y;
}

Tensor Interpreter::Frame::pleInputs(PleInputsOp op) {
  const Tensor &x = tensor(op.getEmbeddings());
  const std::vector<int32_t> &tokens = ids(op.getIds());
  auto shape = cast<ShapedType>(op.getType()).getShape();
  int64_t layers = shape[1], width = shape[2], hidden = x.shape[1];
  Tensor context = linear(x, weight(op.getModelProjection()));
  for (float &v : context.data)
    v = float(v * std::pow(double(hidden), -0.5));
  rmsNormInPlace(context.data.data(), int64_t(context.data.size()), width,
                 weightValues(op.getProjectionNorm()), op.getEps().convertToDouble());
  Tensor result({x.rows(), layers, width});
  float tokenScale = op.getTokenScale().convertToFloat();
  for (int64_t t = 0; t < x.rows(); ++t) {
    int32_t id = isPlaceholder(op.getPlaceholders(), tokens[t]) ? int32_t(*op.getPadId()) : tokens[t];
    std::vector<float> row = weight(op.getPleTable()).decodeRows(id);
    for (int64_t i = 0; i < layers * width; ++i)
      result.row(t)[i] = float((context.row(t)[i] + row[i] * tokenScale) * std::sqrt(0.5));
  }
  return result;
}

Tensor Interpreter::Frame::pleInject(PleInjectOp op) {
  const Tensor &ple = tensor(op.getPleInputs());
  Tensor gate = linear(tensor(op.getHidden()), weight(op.getInputGate()));
  int64_t width = gate.shape[1], layer = op.getLayer();
  for (int64_t t = 0; t < gate.rows(); ++t)
    for (int64_t i = 0; i < width; ++i)
      gate.row(t)[i] = geluTanh(gate.row(t)[i]) * ple.row(t)[layer * width + i];
  return linear(gate, weight(op.getProjection()));
}

llvm::Error Interpreter::Frame::appendKv(AttentionOp op, const Tensor &x, int64_t position) {
  int64_t kvHeads = op.getNumKvHeads(), headDim = op.getHeadDim();
  KvCache &cache = interp_.caches_[op.getLayer()];
  cache.kvHeads = kvHeads;
  cache.headDim = headDim;
  if (cache.length() != position)
    return makeError("interpreter: KV cache of layer {} holds {} positions, but the call starts "
                     "at position {}",
                     op.getLayer(), cache.length(), position);
  double eps = op.getEps().convertToDouble();
  Tensor keys = linear(x, weight(op.getKProj()));
  Tensor values = op.getVFromK() ? keys : linear(x, weight(op.getVProj()));
  rmsNormInPlace(keys.data.data(), int64_t(keys.data.size()), headDim,
                 weightValues(op.getKNorm()), eps);
  rmsNormInPlace(values.data.data(), int64_t(values.data.size()), headDim, {}, eps);
  std::vector<double> invFreq = ropeFrequencies(op);
  for (int64_t t = 0; t < x.rows(); ++t)
    applyRope(keys.row(t), kvHeads, headDim, position + t, invFreq);
  cache.keys.insert(cache.keys.end(), keys.data.begin(), keys.data.end());
  cache.values.insert(cache.values.end(), values.data.begin(), values.data.end());
  return llvm::Error::success();
}

llvm::Expected<Tensor> Interpreter::Frame::attention(AttentionOp op) {
  const Tensor &x = tensor(op.getInput());
  int64_t position = std::get<int64_t>(values_[op.getStartPos()]);
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads(), headDim = op.getHeadDim();
  std::optional<int64_t> source = op.getKvSourceLayer();
  if (!source)
    if (llvm::Error error = appendKv(op, x, position))
      return error;
  const KvCache &cache = interp_.caches_[source.value_or(op.getLayer())];
  if (cache.length() < position + x.rows())
    return makeError("interpreter: layer {} reads the KV cache of layer {}, which holds only {} "
                     "positions",
                     op.getLayer(), *source, cache.length());

  Tensor queries = linear(x, weight(op.getQProj()));
  rmsNormInPlace(queries.data.data(), int64_t(queries.data.size()), headDim,
                 weightValues(op.getQNorm()), op.getEps().convertToDouble());
  std::vector<double> invFreq = ropeFrequencies(op);
  int64_t window = op.getSlidingWindow().value_or(position + x.rows());
  Tensor out({x.rows(), heads * headDim});
  for (int64_t t = 0; t < x.rows(); ++t) {
    int64_t query = position + t, first = std::max<int64_t>(0, query - window + 1);
    applyRope(queries.row(t), heads, headDim, query, invFreq);
    for (int64_t h = 0; h < heads; ++h) {
      int64_t kvHead = h / (heads / kvHeads);
      const float *q = queries.row(t) + h * headDim;
      std::vector<double> scores;
      for (int64_t j = first; j <= query; ++j)
        scores.push_back(dot(q, &cache.keys[(j * kvHeads + kvHead) * headDim], headDim));
      double top = *std::max_element(scores.begin(), scores.end()), sum = 0;
      for (double &s : scores)
        sum += (s = std::exp(s - top));
      float *o = out.row(t) + h * headDim;
      for (int64_t d = 0; d < headDim; ++d) {
        double acc = 0;
        for (int64_t j = first; j <= query; ++j)
          acc += scores[j - first] * cache.values[(j * kvHeads + kvHead) * headDim + d];
        o[d] = float(acc / sum);
      }
    }
  }
  return linear(out, weight(op.getOProj()));
}

Tensor Interpreter::Frame::clippedLinear(const Tensor &x, Value w, OperandRange clip,
                                         int64_t index) {
  if (clip.empty())
    return linear(x, weight(w));
  auto bound = [&](int64_t k) { return weightValues(clip[4 * index + k])[0]; };
  auto clamp = [](Tensor t, float low, float high) {
    for (float &v : t.data)
      v = std::clamp(v, low, high);
    return t;
  };
  return clamp(linear(clamp(x, bound(0), bound(1)), weight(w)), bound(2), bound(3));
}

Tensor Interpreter::Frame::mlp(MlpOp op) {
  const Tensor &x = tensor(op.getInput());
  Tensor gate = clippedLinear(x, op.getGate(), op.getClip(), 0);
  Tensor up = clippedLinear(x, op.getUp(), op.getClip(), 1);
  for (size_t i = 0; i < gate.data.size(); ++i)
    gate.data[i] = geluTanh(gate.data[i]) * up.data[i];
  return clippedLinear(gate, op.getDown(), op.getClip(), 2);
}

Tensor Interpreter::Frame::moe(MoeOp op) {
  const Tensor &r = tensor(op.getRouterInput()), &x = tensor(op.getExpertInput());
  const Weight &gateUp = weight(op.getGateUp()), &down = weight(op.getDown());
  int64_t hidden = r.shape[1], experts = weight(op.getRouterProj()).rows(),
          width = down.rowSize, topK = op.getTopK();
  double eps = op.getEps().convertToDouble();
  std::vector<float> routerScale = weightValues(op.getRouterScale());
  std::vector<float> perExpert = weightValues(op.getPerExpertScale());

  Tensor z = r;
  rmsNormInPlace(z.data.data(), int64_t(z.data.size()), hidden, {}, eps);
  for (int64_t t = 0; t < z.rows(); ++t)
    for (int64_t i = 0; i < hidden; ++i)
      z.row(t)[i] = float(z.row(t)[i] * double(routerScale[i]) * std::pow(double(hidden), -0.5));
  Tensor logits = linear(z, weight(op.getRouterProj()));

  Tensor out({x.rows(), hidden});
  for (int64_t t = 0; t < x.rows(); ++t) {
    const float *l = logits.row(t);
    double top = *std::max_element(l, l + experts), sum = 0;
    std::vector<double> prob(experts);
    for (int64_t e = 0; e < experts; ++e)
      sum += (prob[e] = std::exp(l[e] - top));
    std::vector<int64_t> order(experts);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return prob[a] > prob[b]; });
    double chosen = 0;
    for (int64_t k = 0; k < topK; ++k)
      chosen += prob[order[k]];
    Tensor token({1, hidden});
    std::copy(x.row(t), x.row(t) + hidden, token.row(0));
    for (int64_t k = 0; k < topK; ++k) {
      int64_t e = order[k];
      double w = prob[e] / chosen * double(perExpert[e]);
      Tensor gate = linear(token, gateUp, e * 2 * width, width);
      Tensor up = linear(token, gateUp, e * 2 * width + width, width);
      for (int64_t i = 0; i < width; ++i)
        gate.data[i] = geluTanh(gate.data[i]) * up.data[i];
      Tensor y = linear(gate, down, e * hidden, hidden);
      for (int64_t i = 0; i < hidden; ++i)
        out.row(t)[i] = float(out.row(t)[i] + w * y.data[i]);
    }
  }
  return out;
}

Tensor Interpreter::Frame::layerScalar(LayerScalarOp op) {
  Tensor y = tensor(op.getInput());
  float scalar = weightValues(op.getScalar())[0];
  for (float &v : y.data)
    v *= scalar;
  return y;
}

Tensor Interpreter::Frame::lmHead(LmHeadOp op) {
  Tensor logits = linear(tensor(op.getInput()), weight(op.getTable()));
  if (std::optional<APFloat> cap = op.getSoftcap())
    for (float &v : logits.data)
      v = softcap(v, cap->convertToDouble());
  return logits;
}

Tensor Interpreter::Frame::add(arith::AddFOp op) {
  Tensor y = tensor(op.getLhs());
  const Tensor &rhs = tensor(op.getRhs());
  for (size_t i = 0; i < y.data.size(); ++i)
    y.data[i] += rhs.data[i];
  return y;
}

llvm::Expected<Tensor> Interpreter::Frame::patchEmbed(PatchEmbedOp op) {
  const std::vector<int32_t> &positions = ids(op.getPositions());
  const Weight &table = weight(op.getTable());
  int64_t size = table.rows() / 2;
  for (int32_t position : positions)
    if (position < 0 || position >= size)
      return makeError("interpreter: patch_embed: patch position {} is outside the position "
                       "table [0, {})",
                       position, size);
  Tensor pixels = tensor(op.getPixels());
  for (float &v : pixels.data)
    v = 2.0f * (v - 0.5f); // float32, as Transformers computes it
  Tensor x = linear(pixels, weight(op.getProjection()));
  for (int64_t n = 0; n < x.rows(); ++n)
    for (int64_t axis = 0; axis < 2; ++axis) {
      std::vector<float> row = table.decodeRows(axis * size + positions[n * 2 + axis]);
      for (int64_t i = 0; i < x.rowSize(); ++i)
        x.row(n)[i] += row[i];
    }
  return x;
}

Tensor Interpreter::Frame::visionAttention(VisionAttentionOp op) {
  const Tensor &x = tensor(op.getInput());
  const std::vector<int32_t> &positions = ids(op.getPositions());
  int64_t n = x.rows(), heads = op.getNumHeads(), headDim = op.getHeadDim(), half = headDim / 2;
  double eps = op.getEps().convertToDouble();
  Tensor q = clippedLinear(x, op.getQProj(), op.getClip(), 0);
  Tensor k = clippedLinear(x, op.getKProj(), op.getClip(), 1);
  Tensor v = clippedLinear(x, op.getVProj(), op.getClip(), 2);
  rmsNormInPlace(q.data.data(), int64_t(q.data.size()), headDim, weightValues(op.getQNorm()), eps);
  rmsNormInPlace(k.data.data(), int64_t(k.data.size()), headDim, weightValues(op.getKNorm()), eps);
  rmsNormInPlace(v.data.data(), int64_t(v.data.size()), headDim, {}, eps);
  // Each half of a head is rotated as a head of its own: by the column, then by the row.
  std::vector<double> invFreq(half / 2);
  for (int64_t c = 0; c < half / 2; ++c)
    invFreq[c] = std::pow(op.getRopeTheta().convertToDouble(), -double(2 * c) / double(half));
  for (int64_t t = 0; t < n; ++t)
    for (Tensor *projected : {&q, &k})
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t axis = 0; axis < 2; ++axis)
          applyRope(projected->row(t) + h * headDim + axis * half, 1, half,
                    positions[t * 2 + axis], invFreq);
  Tensor out({n, heads * headDim});
  std::vector<double> scores(n);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      const float *query = q.row(t) + h * headDim;
      double top = -INFINITY, sum = 0;
      for (int64_t j = 0; j < n; ++j)
        top = std::max(top, scores[j] = dot(query, k.row(j) + h * headDim, headDim));
      for (int64_t j = 0; j < n; ++j)
        sum += scores[j] = std::exp(scores[j] - top);
      for (int64_t d = 0; d < headDim; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < n; ++j)
          acc += scores[j] * v.row(j)[h * headDim + d];
        out.row(t)[h * headDim + d] = float(acc / sum);
      }
    }
  return clippedLinear(out, op.getOProj(), op.getClip(), 3);
}

llvm::Expected<Tensor> Interpreter::Frame::visionPool(VisionPoolOp op) {
  const Tensor &x = tensor(op.getInput());
  const std::vector<int32_t> &positions = ids(op.getPositions());
  int64_t n = x.rows(), width = x.rowSize(), kernel = op.getKernel(), columns = 0, rows = 0;
  for (int64_t t = 0; t < n; ++t) {
    columns = std::max<int64_t>(columns, positions[t * 2] + 1);
    rows = std::max<int64_t>(rows, positions[t * 2 + 1] + 1);
  }
  if (columns * rows != n || columns % kernel != 0 || rows % kernel != 0)
    return makeError("interpreter: vision_pool: {} patches do not fill a grid of whole {} x {} "
                     "blocks ({} x {} patches)",
                     n, kernel, kernel, columns, rows);
  Tensor pooled({(columns / kernel) * (rows / kernel), width});
  double scale = std::sqrt(double(width)) / double(kernel * kernel);
  for (int64_t t = 0; t < n; ++t) {
    int64_t bucket = positions[t * 2] / kernel + (columns / kernel) * (positions[t * 2 + 1] / kernel);
    for (int64_t i = 0; i < width; ++i)
      pooled.row(bucket)[i] += float(double(x.row(t)[i]) * scale);
  }
  if (Value bias = op.getStdBias()) {
    std::vector<float> b = weightValues(bias), s = weightValues(op.getStdScale());
    for (int64_t r = 0; r < pooled.rows(); ++r)
      for (int64_t i = 0; i < width; ++i)
        pooled.row(r)[i] = (pooled.row(r)[i] - b[i]) * s[i];
  }
  return pooled;
}

Tensor Interpreter::Frame::mediaProjection(MediaProjectionOp op) {
  Tensor x = tensor(op.getInput());
  rmsNormInPlace(x.data.data(), int64_t(x.data.size()), x.rowSize(), {},
                 op.getEps().convertToDouble());
  return linear(x, weight(op.getProjection()));
}

Tensor Interpreter::Frame::plainLinear(LinearOp op) {
  Tensor y = linear(tensor(op.getInput()), weight(op.getWeight()));
  std::vector<float> bias = weightValues(op.getBias());
  for (int64_t t = 0; !bias.empty() && t < y.rows(); ++t)
    for (int64_t o = 0; o < y.rowSize(); ++o)
      y.row(t)[o] += bias[o];
  return y;
}

namespace {

/// Channels x time x mel planes of the audio subsampling.
struct Planes {
  int64_t channels, time, mels;
  std::vector<float> data;
  float at(int64_t c, int64_t t, int64_t f) const {
    return t < 0 || t >= time || f < 0 || f >= mels ? 0.f : data[(c * time + t) * mels + f];
  }
};

/// A 3x3 convolution with stride 2 and zero padding 1, LayerNorm over the channels, ReLU.
Planes subsampleLayer(const Planes &x, const std::vector<float> &kernel,
                      const std::vector<float> &gain, double eps) {
  int64_t out = int64_t(gain.size());
  Planes y{out, (x.time + 1) / 2, (x.mels + 1) / 2, {}};
  y.data.resize(size_t(out * y.time * y.mels));
  std::vector<double> column(out);
  for (int64_t t = 0; t < y.time; ++t)
    for (int64_t f = 0; f < y.mels; ++f) {
      double mean = 0, variance = 0;
      for (int64_t o = 0; o < out; ++o) {
        double sum = 0;
        for (int64_t c = 0; c < x.channels; ++c)
          for (int64_t a = 0; a < 3; ++a)
            for (int64_t b = 0; b < 3; ++b)
              sum += double(kernel[((o * x.channels + c) * 3 + a) * 3 + b]) *
                     x.at(c, 2 * t + a - 1, 2 * f + b - 1);
        mean += column[o] = sum;
      }
      mean /= double(out);
      for (int64_t o = 0; o < out; ++o)
        variance += (column[o] - mean) * (column[o] - mean);
      double scale = 1.0 / std::sqrt(variance / double(out) + eps);
      for (int64_t o = 0; o < out; ++o)
        y.data[(o * y.time + t) * y.mels + f] =
            float(std::max(0.0, (column[o] - mean) * scale * double(gain[o])));
    }
  return y;
}

float silu(float x) { return float(double(x) / (1.0 + std::exp(-double(x)))); }

} // namespace

Tensor Interpreter::Frame::audioSubsample(AudioSubsampleOp op) {
  const Tensor &features = tensor(op.getFeatures());
  double eps = op.getEps().convertToDouble();
  Planes x{1, features.rows(), features.rowSize(), features.data};
  x = subsampleLayer(x, weightValues(op.getConv0()), weightValues(op.getNorm0()), eps);
  x = subsampleLayer(x, weightValues(op.getConv1()), weightValues(op.getNorm1()), eps);
  Tensor rows({x.time, x.mels * x.channels}); // each row [mel][channel], the channel fastest
  for (int64_t t = 0; t < x.time; ++t)
    for (int64_t f = 0; f < x.mels; ++f)
      for (int64_t c = 0; c < x.channels; ++c)
        rows.row(t)[f * x.channels + c] = x.at(c, t, f);
  return linear(rows, weight(op.getProjection()));
}

Tensor Interpreter::Frame::audioFeedForward(AudioFeedForwardOp op) {
  const Tensor &x = tensor(op.getInput());
  double eps = op.getEps().convertToDouble(), residual = op.getResidualWeight().convertToDouble();
  Tensor y = x;
  rmsNormInPlace(y.data.data(), int64_t(y.data.size()), y.rowSize(),
                 weightValues(op.getPreNorm()), eps);
  y = clippedLinear(y, op.getUp(), op.getClip(), 0);
  for (float &v : y.data)
    v = silu(v);
  y = clippedLinear(y, op.getDown(), op.getClip(), 1);
  rmsNormInPlace(y.data.data(), int64_t(y.data.size()), y.rowSize(),
                 weightValues(op.getPostNorm()), eps);
  for (size_t i = 0; i < y.data.size(); ++i)
    y.data[i] = float(double(x.data[i]) + residual * double(y.data[i]));
  return y;
}

Tensor Interpreter::Frame::audioAttention(AudioAttentionOp op) {
  const Tensor &x = tensor(op.getInput());
  int64_t n = x.rows(), width = x.rowSize(), heads = op.getNumHeads(), headDim = width / heads,
          window = op.getWindow();
  double cap = op.getLogitCap().convertToDouble();
  Tensor q = clippedLinear(x, op.getQProj(), op.getClip(), 0);
  Tensor k = clippedLinear(x, op.getKProj(), op.getClip(), 1);
  Tensor v = clippedLinear(x, op.getVProj(), op.getClip(), 2);
  std::vector<float> perDim = weightValues(op.getPerDimScale());
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < width; ++i) {
      double softplus = std::log1p(std::exp(double(perDim[i % headDim])));
      q.row(t)[i] = float(q.row(t)[i] * std::pow(double(headDim), -0.5) / M_LN2 * softplus);
      k.row(t)[i] = float(k.row(t)[i] * std::log1p(M_E) / M_LN2);
    }
  // The relative position embedding of each distance 0 .. window - 1, projected.
  int64_t half = width / 2;
  Tensor positions({window, width});
  for (int64_t d = 0; d < window; ++d)
    for (int64_t m = 0; m < half; ++m) {
      double angle = double(d) * std::exp(-double(m) * std::log(1e4) /
                                          double(std::max<int64_t>(half - 1, 1)));
      positions.row(d)[m] = float(std::sin(angle));
      positions.row(d)[half + m] = float(std::cos(angle));
    }
  Tensor relative = linear(positions, weight(op.getRelativeKProj()));
  Tensor out({n, width});
  std::vector<double> scores(window);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      const float *query = q.row(t) + h * headDim;
      int64_t first = std::max<int64_t>(0, t - window + 1);
      double top = -INFINITY, sum = 0;
      for (int64_t j = first; j <= t; ++j) {
        double logit = dot(query, k.row(j) + h * headDim, headDim) +
                       dot(query, relative.row(t - j) + h * headDim, headDim);
        top = std::max(top, scores[j - first] = cap * std::tanh(logit / cap));
      }
      for (int64_t j = first; j <= t; ++j)
        sum += scores[j - first] = std::exp(scores[j - first] - top);
      for (int64_t d = 0; d < headDim; ++d) {
        double acc = 0;
        for (int64_t j = first; j <= t; ++j)
          acc += scores[j - first] * v.row(j)[h * headDim + d];
        out.row(t)[h * headDim + d] = float(acc / sum);
      }
    }
  return clippedLinear(out, op.getPost(), op.getClip(), 3);
}

Tensor Interpreter::Frame::lightConv(LightConvOp op) {
  const Tensor &x = tensor(op.getInput());
  int64_t n = x.rows(), width = x.rowSize();
  double eps = op.getEps().convertToDouble();
  Tensor y = x;
  rmsNormInPlace(y.data.data(), int64_t(y.data.size()), width, weightValues(op.getPreNorm()), eps);
  Tensor gated = clippedLinear(y, op.getLinearStart(), op.getClip(), 0);
  Tensor glu({n, width});
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < width; ++i)
      glu.row(t)[i] = float(double(gated.row(t)[i]) /
                            (1.0 + std::exp(-double(gated.row(t)[width + i]))));
  std::vector<float> kernel = weightValues(op.getDepthwise()); // [width, 1, K]
  int64_t taps = int64_t(kernel.size()) / width;
  Tensor conv({n, width});
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < width; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < taps; ++j)
        if (int64_t source = t - taps + 1 + j; source >= 0)
          sum += double(kernel[i * taps + j]) * glu.row(source)[i];
      conv.row(t)[i] = float(sum);
    }
  rmsNormInPlace(conv.data.data(), int64_t(conv.data.size()), width,
                 weightValues(op.getConvNorm()), eps);
  for (float &value : conv.data)
    value = silu(value);
  Tensor end = clippedLinear(conv, op.getLinearEnd(), op.getClip(), 1);
  for (size_t i = 0; i < end.data.size(); ++i)
    end.data[i] += x.data[i];
  return end;
}

/// Every id must index a row of each table it is looked up in.
/// (Media placeholder ids look up no row.)
static llvm::Error checkTokenIds(Block &body, llvm::ArrayRef<int32_t> ids) {
  for (Operation &op : body) {
    using TableAndPlaceholders = std::pair<Value, std::optional<ArrayRef<int32_t>>>;
    auto [table, placeholders] =
        llvm::TypeSwitch<Operation *, TableAndPlaceholders>(&op)
            .Case([](EmbedOp o) { return TableAndPlaceholders{o.getTable(), o.getPlaceholders()}; })
            .Case([](PleInputsOp o) {
              return TableAndPlaceholders{o.getPleTable(), o.getPlaceholders()};
            })
            .Default([](Operation *) { return TableAndPlaceholders{}; });
    if (!table)
      continue;
    int64_t rows = cast<ShapedType>(table.getType()).getDimSize(0);
    for (int32_t id : ids)
      if ((id < 0 || id >= rows) && !isPlaceholder(placeholders, id))
        return makeError("token id {} is outside the vocabulary [0, {})", id, rows);
  }
  return llvm::Error::success();
}

Interpreter::Interpreter(func::FuncOp forward, WeightLookup weights)
    : forward_(forward), weights_(std::move(weights)) {}

llvm::Expected<Tensor> Interpreter::encodeImage(func::FuncOp encoder, WeightLookup weights,
                                               const Tensor &pixels,
                                               llvm::ArrayRef<int32_t> positions) {
  Block &body = encoder.getBody().front();
  if (body.getNumArguments() != 2)
    return makeError("interpreter: encode_image must take (pixels, positions)");
  Interpreter interpreter(encoder, std::move(weights));
  Frame frame(interpreter);
  frame.bind(body.getArgument(0), pixels);
  frame.bind(body.getArgument(1), std::vector<int32_t>(positions.begin(), positions.end()));
  return frame.run(body);
}

llvm::Expected<Tensor> Interpreter::encodeAudio(func::FuncOp encoder, WeightLookup weights,
                                               const Tensor &features) {
  Block &body = encoder.getBody().front();
  if (body.getNumArguments() != 1)
    return makeError("interpreter: encode_audio must take (features)");
  Interpreter interpreter(encoder, std::move(weights));
  Frame frame(interpreter);
  frame.bind(body.getArgument(0), features);
  return frame.run(body);
}

llvm::Expected<Tensor> Interpreter::run(llvm::ArrayRef<int32_t> ids, const Tensor &media) {
  Block &body = forward_.getBody().front();
  if (body.getNumArguments() != 2 && body.getNumArguments() != 3)
    return makeError("interpreter: the forward function must take (ids, start_pos) or (ids, "
                     "start_pos, media)");
  if (llvm::Error error = checkTokenIds(body, ids))
    return error;
  Frame frame(*this);
  frame.bind(body.getArgument(0), std::vector<int32_t>(ids.begin(), ids.end()));
  frame.bind(body.getArgument(1), position_);
  if (body.getNumArguments() == 3) {
    auto width = cast<ShapedType>(body.getArgument(2).getType()).getDimSize(1);
    if (!media.data.empty() && media.rowSize() != width)
      return makeError("interpreter: media rows have {} values, expected {}", media.rowSize(),
                       width);
    frame.bind(body.getArgument(2), media.data.empty() ? Tensor({0, width}) : media);
  }
  llvm::Expected<Tensor> logits = frame.run(body);
  if (logits)
    position_ += int64_t(ids.size());
  return logits;
}

} // namespace gemc::gemma
