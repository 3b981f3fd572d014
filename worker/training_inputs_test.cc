#include "worker/training_inputs.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "images/test_images.h"

namespace stamina::worker {
namespace {

using ::testing::ElementsAre;

TEST(TrainingInputsTest, DecodesCropsAndResizesToTheModelSide) {
  images::PngSpec spec{.width = 96, .height = 64, .color_type = 2, .bit_depth = 8};
  spec.rows.assign(96 * 64 * 3, 128);
  STAMINA_ASSERT_OK_AND_ASSIGN(core::Image image,
                               PrepareTrainingImage(images::WriteTestPng(spec), 32));
  EXPECT_EQ(image.width, 32);
  EXPECT_EQ(image.height, 32);
  EXPECT_EQ(image.pixels.size(), 32u * 32 * 3);
}

TEST(TrainingInputsTest, RefusesBytesThatAreNoImage) {
  EXPECT_THAT(PrepareTrainingImage("not an image", 32),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(TrainingInputsTest, AreaResizeAveragesAndCropsTheCentre) {
  core::Image image(4, 2, {0, 0, 0});
  image.Set(1, 0, {200, 100, 40});
  image.Set(2, 0, {200, 100, 40});
  // Centre 2x2 crop is columns 1-2; halving it averages all four pixels.
  const core::Image out = CropAndResize(image, 1);
  EXPECT_EQ(out.At(0, 0), (core::Rgb{100, 50, 20}));
  const core::Image up = CropAndResize(core::Image(2, 2, {9, 9, 9}), 4);
  EXPECT_EQ(up.At(3, 3), (core::Rgb{9, 9, 9}));
}

TEST(TrainingInputsTest, CaptionsUseTheImageCaptionThenTemplatesThenADefault) {
  TrainingTask task;
  task.token = "<anna>";
  task.images = {{.caption = "{} smiling"}, {}, {}};
  task.caption_templates = {"a face of {}", "{} again"};
  EXPECT_THAT(TrainingCaptions(task),
              ElementsAre("<anna> smiling", "a face of <anna>", "<anna> again"));
  task.caption_templates.clear();
  EXPECT_THAT(TrainingCaptions(task),
              ElementsAre("<anna> smiling", "a photo of <anna>", "a photo of <anna>"));
}

}  // namespace
}  // namespace stamina::worker
