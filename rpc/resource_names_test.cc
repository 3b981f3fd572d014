#include "rpc/resource_names.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::rpc {
namespace {

using ::testing::HasSubstr;

TEST(ResourceNamesTest, ParsesEveryForm) {
  EXPECT_EQ(ParseModelName("models/family", "name")->model, "family");
  STAMINA_ASSERT_OK_AND_ASSIGN(VersionName v,
                               ParseVersionName("models/family/versions/12", "name"));
  EXPECT_EQ(v.model, "family");
  EXPECT_EQ(v.version, 12);
  STAMINA_ASSERT_OK_AND_ASSIGN(ConceptName c,
                               ParseConceptName("models/family/concepts/anna", "parent"));
  EXPECT_EQ(c.concept_id, "anna");
  const std::string digest(64, 'a');
  STAMINA_ASSERT_OK_AND_ASSIGN(
      ImageName i, ParseImageName("models/m/concepts/c/images/" + digest, "name"));
  EXPECT_EQ(i.image, digest);
  EXPECT_EQ(ParseJobName("models/m/jobs/j1", "name")->job, "j1");
  EXPECT_EQ(ParseErasureName("models/m/erasures/e1", "name")->erasure, "e1");
  EXPECT_EQ(FormatErasureName("m", "e1"), "models/m/erasures/e1");
  EXPECT_THAT(ParseBaseModelName("baseModels/stamina-tiny-v1", "model.base_model"),
              IsOkAndHolds(std::string("stamina-tiny-v1")));
}

TEST(ResourceNamesTest, FormatsRoundTrip) {
  EXPECT_EQ(FormatVersionName("m", 3), "models/m/versions/3");
  EXPECT_EQ(ParseVersionName(FormatVersionName("m", 3), "x")->version, 3);
  EXPECT_EQ(FormatImageName("m", "c", "ab"), "models/m/concepts/c/images/ab");
  EXPECT_EQ(FormatBaseModelName("tiny"), "baseModels/tiny");
  EXPECT_EQ(FormatJobName("m", "j"), "models/m/jobs/j");
  EXPECT_EQ(FormatConceptName("m", "c"), "models/m/concepts/c");
  EXPECT_EQ(FormatModelName("m"), "models/m");
}

TEST(ResourceNamesTest, RejectsWithTheFieldNamed) {
  EXPECT_THAT(ParseModelName("model/x", "name"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("name: \"model/x\" is not of the form models/{model}")));
  EXPECT_THAT(ParseModelName("models/x/", "name"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseModelName("models/", "name"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseModelName("models/Bad_Id", "name"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(ParseVersionName("models/m/versions/0", "version"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("version")));
  EXPECT_THAT(ParseVersionName("models/m/versions/07", "version"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseVersionName("models/m/versions/x", "version"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseImageName("models/m/concepts/c/images/ABC", "name"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SHA-256")));
  EXPECT_THAT(ParseJobName("models/m/concepts/c", "name"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseBaseModelName("models/m", "model.base_model"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model.base_model")));
}

}  // namespace
}  // namespace stamina::rpc
