//===- MediaPromptTest.cpp - Media placeholders in prompts, by hand ---------===//
//
// expandMediaPrompt and checkMediaRuns on small hand-made cases; the refdata prompts check the
// same code against Transformers' processor (test/tools/gemc/eval-prompt-media.test). The
// tokenizer here maps every character to its code, so each piece of text is visible in the ids.

#include "runtime/media/MediaPrompt.h"

#include <gtest/gtest.h>

namespace gemc {
namespace {

constexpr int32_t kBos = 2, kImage = 900, kBoi = 901, kEoi = 902, kAudio = 910, kBoa = 911,
                  kEoa = 912;

std::vector<int32_t> characters(std::string_view text) {
  return std::vector<int32_t>(text.begin(), text.end());
}

std::vector<MediaSlot> slots(std::vector<int64_t> images, std::vector<int64_t> clips) {
  MediaSlot image{"<|image|>", "image", "--image", kImage, kBoi, kEoi, {}};
  MediaSlot audio{"<|audio|>", "audio", "--audio", kAudio, kBoa, kEoa, {}};
  for (int64_t n : images)
    image.files.push_back({"img" + std::to_string(image.files.size()), n});
  for (int64_t n : clips)
    audio.files.push_back({"clip" + std::to_string(audio.files.size()), n});
  return {image, audio};
}

std::vector<int32_t> expand(std::string_view text, const std::vector<MediaSlot> &media,
                            std::string *error = nullptr) {
  std::vector<int32_t> ids;
  std::string message;
  bool ok = expandMediaPrompt(text, kBos, media, characters, ids, message);
  if (error)
    *error = message;
  else
    EXPECT_TRUE(ok) << message;
  return ok ? ids : std::vector<int32_t>{};
}

TEST(MediaPromptTest, EachPlaceholderTakesTheNextFile) {
  EXPECT_EQ(expand("a<|image|>b<|audio|><|image|>", slots({2, 1}, {3})),
            (std::vector<int32_t>{kBos, 'a', kBoi, kImage, kImage, kEoi, 'b', kBoa, kAudio,
                                  kAudio, kAudio, kEoa, kBoi, kImage, kEoi}));
}

TEST(MediaPromptTest, UnnamedFilesGoFirstInTheOrderGiven) {
  // No <|image|> in the text: both images go after <bos>; the named clip stays where it is.
  EXPECT_EQ(expand("hi<|audio|>", slots({1, 2}, {1})),
            (std::vector<int32_t>{kBos, kBoi, kImage, kEoi, kBoi, kImage, kImage, kEoi, 'h', 'i',
                                  kBoa, kAudio, kEoa}));
  EXPECT_EQ(expand("", slots({}, {})), (std::vector<int32_t>{kBos}));
}

TEST(MediaPromptTest, MismatchedCountsAreOneClearError) {
  std::string error;
  expand("<|image|><|image|>", slots({4}, {}), &error);
  EXPECT_EQ(error, "the prompt has 2 <|image|> but 1 image file was given with --image: put one "
                   "<|image|> in the text for each file, or none to have them all before it");
  expand("<|audio|>", slots({}, {}), &error);
  EXPECT_EQ(error, "the prompt has 1 <|audio|> but 0 audio files were given with --audio: put "
                   "one <|audio|> in the text for each file, or none to have them all before it");
}

TEST(MediaPromptTest, RunsMustHaveEachFilesCount) {
  std::vector<int32_t> ids = {kBos, kImage, kImage, 5, kImage};
  EXPECT_EQ(placeholderRuns(ids, kImage), (std::vector<int64_t>{2, 1}));
  std::string error;
  EXPECT_TRUE(checkMediaRuns(ids, kImage, {{"a", 2}, {"b", 1}}, "--tokens", "image", error));
  EXPECT_FALSE(checkMediaRuns(ids, kImage, {{"a", 2}, {"b", 3}}, "--tokens", "image", error));
  EXPECT_EQ(error, "--tokens: run 2 of the image placeholder id 900 has 1 ids, but b is 3 soft "
                   "tokens: expected 3 ids");
}

} // namespace
} // namespace gemc
