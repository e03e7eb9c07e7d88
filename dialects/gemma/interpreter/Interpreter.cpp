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
  Tensor embed(EmbedOp op);
  Tensor rmsNorm(RMSNormOp op);
  Tensor pleInputs(PleInputsOp op);
  Tensor pleInject(PleInjectOp op);
  llvm::Expected<Tensor> attention(AttentionOp op);
  llvm::Error appendKv(AttentionOp op, const Tensor &x, int64_t position);
  Tensor mlp(MlpOp op);
  Tensor moe(MoeOp op);
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
  llvm::Expected<Slot> result =
      llvm::TypeSwitch<Operation *, llvm::Expected<Slot>>(&op)
          .Case([&](WeightOp o) -> llvm::Expected<Slot> {
            llvm::Expected<Weight> w = loadWeight(o);
            if (!w)
              return w.takeError();
            return Slot(*w);
          })
          .Case([&](EmbedOp o) { return wrap(embed(o)); })
          .Case([&](RMSNormOp o) { return wrap(rmsNorm(o)); })
          .Case([&](PleInputsOp o) { return wrap(pleInputs(o)); })
          .Case([&](PleInjectOp o) { return wrap(pleInject(o)); })
          .Case([&](AttentionOp o) -> llvm::Expected<Slot> {
            llvm::Expected<Tensor> t = attention(o);
            if (!t)
              return t.takeError();
            return Slot(std::move(*t));
          })
          .Case([&](MlpOp o) { return wrap(mlp(o)); })
          .Case([&](MoeOp o) { return wrap(moe(o)); })
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
  return Weight{*info, shape.back(),
                op.getFormat() ? std::optional(op.storedFormat()) : std::nullopt,
                op.activationFormat()};
}

Tensor Interpreter::Frame::embed(EmbedOp op) {
  const std::vector<int32_t> &tokens = ids(op.getIds());
  const Weight &table = weight(op.getTable());
  float scale = op.getScale().convertToFloat();
  Tensor x({int64_t(tokens.size()), table.rowSize});
  for (size_t t = 0; t < tokens.size(); ++t) {
    std::vector<float> row = table.decodeRows(tokens[t]);
    for (int64_t i = 0; i < table.rowSize; ++i)
      x.row(t)[i] = row[i] * scale;
  }
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
    std::vector<float> row = weight(op.getPleTable()).decodeRows(tokens[t]);
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

Tensor Interpreter::Frame::mlp(MlpOp op) {
  const Tensor &x = tensor(op.getInput());
  Tensor gate = linear(x, weight(op.getGate()));
  Tensor up = linear(x, weight(op.getUp()));
  for (size_t i = 0; i < gate.data.size(); ++i)
    gate.data[i] = geluTanh(gate.data[i]) * up.data[i];
  return linear(gate, weight(op.getDown()));
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

/// Every id must index a row of each table it is looked up in.
static llvm::Error checkTokenIds(Block &body, llvm::ArrayRef<int32_t> ids) {
  for (Operation &op : body) {
    Value table = llvm::TypeSwitch<Operation *, Value>(&op)
                      .Case([](EmbedOp o) { return o.getTable(); })
                      .Case([](PleInputsOp o) { return o.getPleTable(); })
                      .Default([](Operation *) { return Value(); });
    if (!table)
      continue;
    int64_t rows = cast<ShapedType>(table.getType()).getDimSize(0);
    for (int32_t id : ids)
      if (id < 0 || id >= rows)
        return makeError("token id {} is outside the vocabulary [0, {})", id, rows);
  }
  return llvm::Error::success();
}

Interpreter::Interpreter(func::FuncOp forward, WeightLookup weights)
    : forward_(forward), weights_(std::move(weights)) {}

llvm::Expected<Tensor> Interpreter::run(llvm::ArrayRef<int32_t> ids) {
  Block &body = forward_.getBody().front();
  if (body.getNumArguments() != 2)
    return makeError("interpreter: the forward function must take (ids, start_pos)");
  if (llvm::Error error = checkTokenIds(body, ids))
    return error;
  Frame frame(*this);
  frame.bind(body.getArgument(0), std::vector<int32_t>(ids.begin(), ids.end()));
  frame.bind(body.getArgument(1), position_);
  llvm::Expected<Tensor> logits = frame.run(body);
  if (logits)
    position_ += int64_t(ids.size());
  return logits;
}

} // namespace gemc::gemma
