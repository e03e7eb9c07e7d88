//===- Audio.h - Sound to the audio tower's log-mel features ------------------===//
//
// What Gemma4AudioFeatureExtractor (transformers 5.23) does to a clip before the audio tower, in
// C++ (refdata/audio-tiny/README.md lists the facts):
//   1. read a WAV file (PCM 16/24/32-bit or 32-bit float, any channel count: mixed down by the
//      mean), and resample it to 16 kHz when it has another rate (readWav);
//   2. pad to a multiple of 128 samples, prepend 160 zeros (semicausal), cut frames of 320
//      samples every 160, window them with a float32 periodic Hann window, take |rfft| of 512
//      points, 128 HTK mel filters over 0-8 kHz (no normalization), log(mel + 0.001), and mark
//      the frames that end in real audio (logMelFeatures).
// The FFT runs in double: Transformers' float32 FFT differs from it by about 5e-7.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gemc {

constexpr int64_t kAudioSampleRate = 16000;

/// Reads a RIFF/WAVE file's bytes into mono float samples at 16 kHz. PCM values are scaled by
/// 2^-(bits-1) (int16 / 32768, as Transformers' references read them). Another sample rate
/// (4 to 384 kHz) is converted with a windowed-sinc filter, torchaudio's default resample (Hann
/// window, 6 zero crossings, rolloff 0.99). Only the first 30 s (and a sample) are read: the
/// features stop there. `name` (the file) starts every error.
bool readWav(const uint8_t *data, size_t size, const std::string &name, std::vector<float> &out,
             std::string &error);

/// Converts mono float samples from `fromRate` Hz to `toRate` Hz (torchaudio's
/// sinc_interp_hann resample: ceil(n * toRate / fromRate) samples).
std::vector<float> resample(const std::vector<float> &samples, int64_t fromRate, int64_t toRate);

/// Log-mel features of one clip.
struct AudioFeatures {
  int64_t frames = 0;
  static constexpr int64_t kMelBins = 128;
  std::vector<float> values; // [frames, kMelBins]; 0 on invalid frames
  std::vector<uint8_t> mask; // [frames]: 1 where the frame ends in real audio
  bool truncated = false;    // the clip was longer than kMaxSamples and was cut
  static constexpr int64_t kMaxSamples = 30 * kAudioSampleRate;
};

/// The features of 16 kHz samples (at most kMaxSamples are used, as Transformers truncates).
AudioFeatures logMelFeatures(const std::vector<float> &samples);

/// The number of audio soft tokens `mask` becomes after the tower's two stride-2 steps.
int64_t audioSoftTokens(const std::vector<uint8_t> &mask);

} // namespace gemc
