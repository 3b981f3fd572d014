#include "server/sample_request.h"

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::server {
namespace {

using ::testing::HasSubstr;

v1::SampleRequest Request(const std::string& prompt) {
  v1::SampleRequest request;
  request.set_model("models/pets");
  request.set_prompt(prompt);
  return request;
}

TEST(SampleRequestTest, ZeroValuesTakeTheDefaults) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      rpc::SampleParams p,
      SampleParamsFor(Request("<anna>"), {}, {.steps = 12, .guidance_scale = 4}, 99));
  EXPECT_EQ(p.count, 1);
  EXPECT_EQ(p.steps, 12);
  EXPECT_EQ(p.guidance_scale, 4);
  EXPECT_EQ(p.seed, 99);
  EXPECT_EQ(p.width, 0);
  EXPECT_EQ(p.sampler, "ddim");
}

TEST(SampleRequestTest, EveryBadFieldIsNamed) {
  const ServiceLimits limits;
  auto expect_bad = [&](v1::SampleRequest request, const std::string& field) {
    EXPECT_THAT(SampleParamsFor(request, limits, {}, 1),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(field + ":")));
  };
  expect_bad(Request(""), "prompt");
  expect_bad(Request(std::string(limits.max_prompt_length + 1, 'a')), "prompt");
  expect_bad(Request("bad \xFF utf-8"), "prompt");
  v1::SampleRequest r = Request("x");
  r.set_image_count(-1);
  expect_bad(r, "image_count");
  r = Request("x");
  r.set_steps(1000000);
  expect_bad(r, "steps");
  r = Request("x");
  r.set_guidance_scale(0.5f);
  expect_bad(r, "guidance_scale");
  r = Request("x");
  r.set_width(36);
  expect_bad(r, "width");
  r = Request("x");
  r.set_height(4096);
  expect_bad(r, "height");
  r = Request("x");
  r.set_sampler(static_cast<v1::Sampler>(42));
  expect_bad(r, "sampler");
}

// The limit is documented in characters: a prompt of max_prompt_length
// three-byte characters is accepted, one more is not.
// A sampler may allow a side the front end refuses (50 on a model whose VAE
// factor is 2): Capabilities reports what a Sample may actually ask.
TEST(SampleRequestTest, LargestAcceptedSideIsAMultipleOfEightWithinTheLimits) {
  ServiceLimits limits;
  EXPECT_EQ(LargestAcceptedSide(64, limits), 64);
  EXPECT_EQ(LargestAcceptedSide(50, limits), 48);
  EXPECT_EQ(LargestAcceptedSide(4096, limits), limits.max_sample_side);
  limits.min_sample_side = 64;
  EXPECT_EQ(LargestAcceptedSide(60, limits), 0);
  ServiceLimits defaults;
  const int side = LargestAcceptedSide(50, defaults);
  v1::SampleRequest request = Request("a face");
  request.set_width(side);
  request.set_height(side);
  EXPECT_THAT(SampleParamsFor(request, defaults, {}, 1), IsOk());
}

TEST(SampleRequestTest, PromptLimitCountsCharactersNotBytes) {
  const ServiceLimits limits;
  std::string wide;
  for (int i = 0; i < limits.max_prompt_length; ++i) wide += "\xE6\x9D\xB1";  // 東
  EXPECT_THAT(SampleParamsFor(Request(wide), limits, {}, 1), IsOk());
  EXPECT_THAT(SampleParamsFor(Request(wide + "x"), limits, {}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(limits.max_prompt_length + 1, " characters"))));
}

TEST(SampleRequestTest, ConceptTokensMustBeFoldedIntoTheVersion) {
  const std::vector<std::string> known = {"<anna>", "<old-mill>"};
  STAMINA_EXPECT_OK(CheckConceptTokens("<anna> in front of <OLD-MILL>", "prompt", known,
                                       "models/pets/versions/2"));
  // Angle brackets that are no token are plain text.
  STAMINA_EXPECT_OK(CheckConceptTokens("a < b > c <no spaces allowed>", "prompt", known, ""));
  EXPECT_THAT(CheckConceptTokens("<anna> and <bob>", "negative_prompt", known,
                                 "models/pets/versions/2"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("negative_prompt: unknown concept token <bob>; "
                                 "models/pets/versions/2 knows <anna>, <old-mill>")));
  EXPECT_THAT(CheckConceptTokens("<anna>", "prompt", {}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the base model knows no concept tokens")));
}

}  // namespace
}  // namespace stamina::server
