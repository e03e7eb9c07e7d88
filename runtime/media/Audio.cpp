//===- Audio.cpp - Sound to the audio tower's log-mel features ----------------===//

#include "runtime/media/Audio.h"

#include "runtime/common/Format.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstring>
#include <numeric>

namespace gemc {
namespace {

uint32_t le32(const uint8_t *p) { return uint32_t(p[0]) | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }
uint16_t le16(const uint8_t *p) { return uint16_t(p[0] | p[1] << 8); }

constexpr int64_t kMinSampleRate = 4000, kMaxSampleRate = 384000;

/// The fields of a WAV "fmt " chunk that matter here.
struct WavFormat {
  bool isFloat = false;
  int64_t channels = 0, sampleRate = 0, bits = 0;
};

/// Checks a "fmt " chunk's body: PCM (16, 24 or 32 bits) or IEEE float (32 bits), plain or
/// WAVE_FORMAT_EXTENSIBLE.
bool readFormat(const uint8_t *p, uint32_t size, const std::string &name, WavFormat &format,
                std::string &error) {
  if (size < 16) {
    error = formatMessage("%s: fmt chunk: %u bytes, expected at least 16", name.c_str(), size);
    return false;
  }
  uint16_t tag = le16(p);
  if (tag == 0xFFFE && size >= 26) // WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
    tag = le16(p + 24);
  format.channels = le16(p + 2);
  format.sampleRate = le32(p + 4);
  uint16_t blockAlign = le16(p + 12);
  format.bits = le16(p + 14);
  format.isFloat = tag == 3;
  bool pcm = tag == 1 && (format.bits == 16 || format.bits == 24 || format.bits == 32);
  if (!pcm && !(format.isFloat && format.bits == 32)) {
    error = formatMessage("%s: fmt chunk: format %u with %lld-bit samples; expected PCM (16, 24 "
                          "or 32 bits) or 32-bit float",
                          name.c_str(), unsigned(tag), (long long)format.bits);
    return false;
  }
  if (format.sampleRate < kMinSampleRate || format.sampleRate > kMaxSampleRate) {
    error = formatMessage("%s: fmt chunk: %lld Hz; gemc reads %lld to %lld Hz", name.c_str(),
                          (long long)format.sampleRate, (long long)kMinSampleRate,
                          (long long)kMaxSampleRate);
    return false;
  }
  if (format.channels == 0 || blockAlign != format.channels * format.bits / 8) {
    error = formatMessage("%s: fmt chunk: %lld channels at %lld Hz with %u-byte frames is not a "
                          "consistent format",
                          name.c_str(), (long long)format.channels, (long long)format.sampleRate,
                          unsigned(blockAlign));
    return false;
  }
  return true;
}

/// One sample as a float: PCM scaled by 2^-(bits-1).
float sampleAt(const uint8_t *p, const WavFormat &format) {
  if (format.isFloat) {
    float value;
    std::memcpy(&value, p, 4);
    return value;
  }
  if (format.bits == 16)
    return float(int16_t(le16(p))) / 32768.0f;
  if (format.bits == 24)
    return float(int32_t(uint32_t(p[0]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 24) >> 8) /
           8388608.0f;
  return float(double(int32_t(le32(p))) / 2147483648.0);
}

/// Mixes interleaved frames down to mono by the mean of the channels.
std::vector<float> monoSamples(const uint8_t *p, int64_t frames, const WavFormat &format) {
  std::vector<float> out(frames);
  int64_t bytes = format.bits / 8;
  for (int64_t f = 0; f < frames; ++f) {
    float sum = 0;
    for (int64_t c = 0; c < format.channels; ++c)
      sum += sampleAt(p + (f * format.channels + c) * bytes, format);
    out[f] = format.channels == 1 ? sum : sum / float(format.channels);
  }
  return out;
}

} // namespace

bool readWav(const uint8_t *data, size_t size, const std::string &name, std::vector<float> &out,
             std::string &error) {
  if (size < 12 || std::memcmp(data, "RIFF", 4) != 0 || std::memcmp(data + 8, "WAVE", 4) != 0) {
    error = name + ": not a WAV file (no RIFF/WAVE header)";
    return false;
  }
  WavFormat format;
  bool haveFormat = false;
  for (size_t at = 12; at + 8 <= size;) {
    uint32_t chunk = le32(data + at + 4);
    const uint8_t *body = data + at + 8;
    size_t left = size - at - 8;
    if (std::memcmp(data + at, "fmt ", 4) == 0) {
      if (chunk > left) {
        error = formatMessage("%s: fmt chunk: %u bytes, but only %zu are left (truncated file)",
                              name.c_str(), chunk, left);
        return false;
      }
      if (!readFormat(body, chunk, name, format, error))
        return false;
      haveFormat = true;
    } else if (std::memcmp(data + at, "data", 4) == 0) {
      if (!haveFormat) {
        error = name + ": the data chunk comes before any fmt chunk";
        return false;
      }
      int64_t frameBytes = format.channels * format.bits / 8;
      if (chunk > left || chunk % frameBytes != 0) {
        error = formatMessage("%s: data chunk: %u bytes, but %zu are left in the file and "
                              "frames are %lld bytes (truncated file)",
                              name.c_str(), chunk, left, (long long)frameBytes);
        return false;
      }
      if (chunk == 0) {
        error = name + ": no samples (the data chunk is empty)";
        return false;
      }
      // Past 30 s the features are cut anyway: read 30 s and one sample more, so that
      // logMelFeatures still says the clip was cut.
      int64_t frames = std::min<int64_t>(chunk / frameBytes,
          AudioFeatures::kMaxSamples / kAudioSampleRate * format.sampleRate + 1);
      out = monoSamples(body, frames, format);
      if (format.sampleRate != kAudioSampleRate)
        out = resample(out, format.sampleRate, kAudioSampleRate);
      return true;
    }
    at += 8 + size_t(chunk) + (chunk & 1);
  }
  error = name + (haveFormat ? ": no data chunk" : ": no fmt chunk") + " (truncated file?)";
  return false;
}

std::vector<float> resample(const std::vector<float> &samples, int64_t fromRate, int64_t toRate) {
  int64_t g = std::gcd(fromRate, toRate);
  int64_t from = fromRate / g, to = toRate / g;
  constexpr double kZeroCrossings = 6.0, kRolloff = 0.99;
  double base = double(std::min(from, to)) * kRolloff;
  auto n = int64_t(samples.size());
  int64_t outSize = (n * to + from - 1) / from;
  // Output m reads the inputs i with |i / from - m / to| * base < kZeroCrossings.
  double reach = kZeroCrossings * double(from) / base;
  std::vector<float> out(outSize);
  for (int64_t m = 0; m < outSize; ++m) {
    double center = double(m) * double(from) / double(to);
    int64_t first = std::max(int64_t(std::ceil(center - reach)), int64_t(0));
    int64_t last = std::min(int64_t(std::floor(center + reach)), n - 1);
    double sum = 0;
    for (int64_t i = first; i <= last; ++i) {
      double t = double(i * to - m * from) / double(from * to) * base;
      t = std::clamp(t, -kZeroCrossings, kZeroCrossings);
      double window = std::cos(t * M_PI / kZeroCrossings / 2);
      double sinc = t == 0 ? 1.0 : std::sin(t * M_PI) / (t * M_PI);
      sum += double(samples[i]) * sinc * window * window;
    }
    out[m] = float(sum * base / double(from));
  }
  return out;
}

namespace {

constexpr int64_t kFrameLength = 320, kHop = 160, kFftLength = 512;
constexpr int64_t kFftBins = kFftLength / 2 + 1;

/// In-place radix-2 FFT of kFftLength points.
void fft(std::array<std::complex<double>, kFftLength> &x) {
  for (int64_t i = 1, j = 0; i < kFftLength; ++i) { // bit reversal
    int64_t bit = kFftLength >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j)
      std::swap(x[i], x[j]);
  }
  static const std::vector<std::complex<double>> twiddles = [] { // e^(-2 pi i k / N)
    std::vector<std::complex<double>> w(kFftLength / 2);
    for (int64_t k = 0; k < kFftLength / 2; ++k)
      w[k] = std::polar(1.0, -2 * M_PI * double(k) / double(kFftLength));
    return w;
  }();
  for (int64_t len = 2; len <= kFftLength; len <<= 1) {
    for (int64_t start = 0; start < kFftLength; start += len)
      for (int64_t k = 0; k < len / 2; ++k) {
        std::complex<double> w = twiddles[k * (kFftLength / len)];
        std::complex<double> a = x[start + k], b = x[start + k + len / 2] * w;
        x[start + k] = a + b;
        x[start + k + len / 2] = a - b;
      }
  }
}

/// One mel filter: its weights on the FFT bins firstBin, firstBin + 1, ... (zero elsewhere).
struct MelFilter {
  int64_t firstBin = 0;
  std::vector<double> weights;
};

/// Transformers' mel_filter_bank(257, 128, 0, 8000, 16000, norm=None, mel_scale="htk"): 128
/// triangles between 130 edges equally spaced in HTK mel, each kept as its nonzero span.
std::vector<MelFilter> melFilters() {
  constexpr int64_t mels = AudioFeatures::kMelBins;
  auto toMel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
  auto toHz = [](double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); };
  // numpy.linspace: start + i * step, the last value exactly `stop`.
  auto linspace = [](double start, double stop, int64_t count) {
    std::vector<double> v(count);
    double step = (stop - start) / double(count - 1);
    for (int64_t i = 0; i < count; ++i)
      v[i] = start + double(i) * step;
    v.back() = stop;
    return v;
  };
  std::vector<double> edges = linspace(toMel(0.0), toMel(8000.0), mels + 2);
  for (double &edge : edges)
    edge = toHz(edge);
  std::vector<double> bins = linspace(0.0, 8000.0, kFftBins);
  std::vector<MelFilter> filters(mels);
  for (int64_t m = 0; m < mels; ++m) {
    std::vector<double> dense(kFftBins);
    for (int64_t f = 0; f < kFftBins; ++f) {
      double down = -(edges[m] - bins[f]) / (edges[m + 1] - edges[m]);
      double up = (edges[m + 2] - bins[f]) / (edges[m + 2] - edges[m + 1]);
      dense[f] = std::max(0.0, std::min(down, up));
    }
    auto nonzero = [](double w) { return w != 0.0; };
    auto first = std::find_if(dense.begin(), dense.end(), nonzero);
    auto last = std::find_if(dense.rbegin(), dense.rend(), nonzero).base();
    if (first < last) // zeros add nothing to the sum: leaving them out changes no bit
      filters[m] = {first - dense.begin(), std::vector<double>(first, last)};
  }
  return filters;
}

} // namespace

AudioFeatures logMelFeatures(const std::vector<float> &samples) {
  AudioFeatures out;
  auto real = std::min(int64_t(samples.size()), AudioFeatures::kMaxSamples);
  out.truncated = int64_t(samples.size()) > real;
  int64_t padded = (real + 127) / 128 * 128;
  // Semicausal: half a frame of zeros in front; the padding's samples are not real audio.
  std::vector<float> x(size_t(kFrameLength / 2 + padded), 0.0f);
  std::copy(samples.begin(), samples.begin() + real, x.begin() + kFrameLength / 2);
  auto length = int64_t(x.size());
  out.frames = length > kFrameLength ? (length - (kFrameLength + 1)) / kHop + 1 : 0;
  constexpr int64_t mels = AudioFeatures::kMelBins;
  out.values.assign(size_t(out.frames * mels), 0.0f);
  out.mask.assign(size_t(out.frames), 0);
  std::array<float, kFrameLength> window;
  for (int64_t n = 0; n < kFrameLength; ++n) // numpy.hanning(321)[:-1], stored as float32
    window[n] = float(0.5 - 0.5 * std::cos(2 * M_PI * double(n) / double(kFrameLength)));
  static const std::vector<MelFilter> filters = melFilters();
  for (int64_t i = 0; i < out.frames; ++i) {
    // A frame is real when the last sample of its 321-sample window is.
    int64_t last = i * kHop + kFrameLength - kFrameLength / 2;
    if (last >= real)
      continue;
    out.mask[i] = 1;
    std::array<std::complex<double>, kFftLength> spectrum{};
    for (int64_t n = 0; n < kFrameLength; ++n)
      spectrum[n] = double(x[i * kHop + n] * window[n]); // a float32 product, as numpy makes it
    fft(spectrum);
    std::array<double, kFftBins> magnitude;
    for (int64_t f = 0; f < kFftBins; ++f)
      magnitude[f] = std::abs(spectrum[f]);
    for (int64_t m = 0; m < mels; ++m) {
      double mel = 0;
      const MelFilter &filter = filters[m];
      for (size_t k = 0; k < filter.weights.size(); ++k)
        mel += magnitude[filter.firstBin + k] * filter.weights[k];
      out.values[i * mels + m] = float(std::log(mel + 0.001));
    }
  }
  return out;
}

int64_t audioSoftTokens(const std::vector<uint8_t> &mask) {
  std::vector<uint8_t> current = mask;
  for (int step = 0; step < 2; ++step) {
    std::vector<uint8_t> next;
    for (size_t i = 0; i < current.size(); i += 2)
      next.push_back(current[i]);
    current = std::move(next);
  }
  return std::count(current.begin(), current.end(), uint8_t(1));
}

} // namespace gemc
