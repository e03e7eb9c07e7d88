//===- AudioTest.cpp - The audio path against Transformers' feature extractor ===//
//
// refdata/audio-tiny holds a 16 kHz PCM16 WAV, the waveform the extractor got, its log-mel
// features and frame mask. Other formats and rates are checked against hand-made signals.

#include "runtime/media/Audio.h"

#include "test/unit/NumericCompare.h"
#include "test/unit/runtime/media/MediaFiles.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gemc {
namespace {

using test::refdataArray;
using test::refdataBytes;

std::vector<float> readRefdataWav() {
  std::vector<uint8_t> bytes = refdataBytes("audio-tiny/audio.wav");
  std::vector<float> samples;
  std::string error;
  EXPECT_TRUE(readWav(bytes.data(), bytes.size(), "audio.wav", samples, error)) << error;
  return samples;
}

TEST(AudioTest, WavSamplesAreTheExtractorsInput) {
  std::vector<float> samples = readRefdataWav();
  std::vector<float> expected = refdataArray<float>("audio-tiny/audio_waveform.f32");
  EXPECT_EQ(samples, expected);
}

TEST(AudioTest, LogMelIsTheExtractors) {
  AudioFeatures features = logMelFeatures(readRefdataWav());
  std::vector<float> expected = refdataArray<float>("audio-tiny/input_features.f32");
  std::vector<uint8_t> mask = refdataArray<uint8_t>("audio-tiny/input_features_mask.u8");
  EXPECT_EQ(features.frames, 203);
  EXPECT_EQ(features.mask, mask);
  // The extractor's FFT is float32, gemc's double: they differ by about 5e-7 (README).
  EXPECT_TRUE(test::allClose(features.values, expected, 1e-5));
  EXPECT_EQ(audioSoftTokens(features.mask), 51);
  EXPECT_FALSE(features.truncated);
}

/// A WAV file of `channels` x `bits` samples at `rate`: PCM (format 1) or float (3).
std::vector<uint8_t> wavFile(int format, int channels, int rate, int bits,
                             const std::vector<uint8_t> &data) {
  std::vector<uint8_t> out;
  auto put = [&](uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i)
      out.push_back(uint8_t(value >> (8 * i)));
  };
  auto text = [&](const char *s) { out.insert(out.end(), s, s + 4); };
  text("RIFF");
  put(36 + data.size(), 4);
  text("WAVE");
  text("fmt ");
  put(16, 4);
  put(format, 2);
  put(channels, 2);
  put(rate, 4);
  put(rate * channels * bits / 8, 4);
  put(channels * bits / 8, 2);
  put(bits, 2);
  text("data");
  put(data.size(), 4);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<float> read(const std::vector<uint8_t> &file) {
  std::vector<float> samples;
  std::string error;
  EXPECT_TRUE(readWav(file.data(), file.size(), "clip.wav", samples, error)) << error;
  return samples;
}

TEST(AudioTest, FormatsAndChannels) {
  // Stereo PCM16 (16384, -16384) and (32767, 0): the mean of each frame.
  std::vector<float> stereo = read(wavFile(1, 2, 16000, 16, {0, 0x40, 0, 0xC0, 0xFF, 0x7F, 0, 0}));
  EXPECT_EQ(stereo, (std::vector<float>{0.0f, 32767.0f / 32768.0f / 2.0f}));
  // 24-bit PCM -2^22 = 0xC00000: -0.5.
  EXPECT_EQ(read(wavFile(1, 1, 16000, 24, {0, 0, 0xC0})), std::vector<float>{-0.5f});
  // 32-bit float 0.25.
  EXPECT_EQ(read(wavFile(3, 1, 16000, 32, {0, 0, 0x80, 0x3E})), std::vector<float>{0.25f});
}

TEST(AudioTest, ResamplingKeepsATone) {
  // 0.5 s of a 440 Hz tone at 44.1 kHz, resampled: 8000 samples of the same tone, away from the
  // edges (where the filter sees the zeros outside the clip) within 1e-3.
  std::vector<float> tone(22050);
  for (size_t i = 0; i < tone.size(); ++i)
    tone[i] = float(0.5 * std::sin(2 * M_PI * 440.0 * double(i) / 44100.0));
  std::vector<float> resampled = resample(tone, 44100, 16000);
  ASSERT_EQ(resampled.size(), 8000u);
  double worst = 0;
  for (size_t i = 100; i < 7900; ++i)
    worst = std::max(worst, std::abs(resampled[i] - 0.5 * std::sin(2 * M_PI * 440.0 * double(i) /
                                                                   16000.0)));
  EXPECT_LT(worst, 1e-3);
  // From 48 kHz, a 3 kHz tone is kept and a 12 kHz one (above the new Nyquist, 8 kHz) is filtered
  // out (the filter's transition band is wide: 6 zero crossings).
  for (double hz : {3000.0, 12000.0}) {
    std::vector<float> high(48000);
    for (size_t i = 0; i < high.size(); ++i)
      high[i] = float(std::sin(2 * M_PI * hz * double(i) / 48000.0));
    std::vector<float> out = resample(high, 48000, 16000);
    double energy = 0;
    for (size_t i = 1000; i < 15000; ++i)
      energy += double(out[i]) * out[i];
    double rms = std::sqrt(energy / 14000.0);
    if (hz < 8000)
      EXPECT_NEAR(rms, std::sqrt(0.5), 0.01) << hz;
    else
      EXPECT_LT(rms, 0.01) << hz;
  }
}

TEST(AudioTest, BrokenFilesGiveOneClearError) {
  auto failure = [](const std::vector<uint8_t> &bytes) {
    std::vector<float> samples;
    std::string error;
    EXPECT_FALSE(readWav(bytes.data(), bytes.size(), "clip.wav", samples, error));
    return error;
  };
  std::vector<uint8_t> good = wavFile(1, 1, 16000, 16, {1, 0, 2, 0});
  EXPECT_EQ(failure({}), "clip.wav: not a WAV file (no RIFF/WAVE header)");
  EXPECT_EQ(failure(std::vector<uint8_t>(good.begin(), good.end() - 1)),
            "clip.wav: data chunk: 4 bytes, but 3 are left in the file and frames are 2 bytes "
            "(truncated file)");
  EXPECT_EQ(failure(std::vector<uint8_t>(good.begin(), good.begin() + 30)),
            "clip.wav: fmt chunk: 16 bytes, but only 10 are left (truncated file)");
  EXPECT_EQ(failure(std::vector<uint8_t>(good.begin(), good.begin() + 36)),
            "clip.wav: no data chunk (truncated file?)");
  EXPECT_EQ(failure(wavFile(1, 1, 16000, 16, {})), "clip.wav: no samples (the data chunk is empty)");
  EXPECT_EQ(failure(wavFile(1, 1, 16000, 8, {1})),
            "clip.wav: fmt chunk: format 1 with 8-bit samples; expected PCM (16, 24 or 32 bits) "
            "or 32-bit float");
  EXPECT_EQ(failure(wavFile(1, 1, 1000, 16, {1, 0})),
            "clip.wav: fmt chunk: 1000 Hz; gemc reads 4000 to 384000 Hz");
  EXPECT_EQ(failure(wavFile(1, 0, 16000, 16, {1, 0})),
            "clip.wav: fmt chunk: 0 channels at 16000 Hz with 0-byte frames is not a consistent "
            "format");
}

TEST(AudioTest, ShortAndLongClips) {
  // 100 samples, padded to 128, plus 160 zeros in front: shorter than one 321-sample window.
  AudioFeatures none = logMelFeatures(std::vector<float>(100, 0.1f));
  EXPECT_EQ(none.frames, 0);
  EXPECT_EQ(audioSoftTokens(none.mask), 0);
  // 31 s: cut at 30 s as Transformers does, 2999 frames, 750 soft tokens (audio_seq_length).
  AudioFeatures cut = logMelFeatures(std::vector<float>(31 * kAudioSampleRate, 0.1f));
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.frames, 2999);
  EXPECT_EQ(audioSoftTokens(cut.mask), 750);
}

} // namespace
} // namespace gemc
