#include "storage/sqlite_lineage_store.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sha256.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Concepts(const std::vector<VersionRecord>& versions) {
  std::vector<std::string> out;
  for (const auto& v : versions) out.push_back(v.concept_id);
  return out;
}

class LineageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = TestRegistry::Create();
    ASSERT_THAT(registry, IsOk());
    r_ = std::move(*registry);
  }

  absl::StatusOr<VersionRecord> TrainNow(const std::string& concept) {
    absl::Status added = r_->AddTrainableConcept("t1", "m", concept, 2);
    if (!added.ok()) return added;
    auto job = r_->jobs().Create({.tenant_id = "t1", .model_id = "m",
                                  .concept_id = concept, .settings = "s-" + concept});
    if (!job.ok()) return job.status();
    auto lease = r_->jobs().Claim("w", absl::Seconds(30));
    if (!lease.ok()) return lease.status();
    if (!lease->has_value()) return absl::InternalError("nothing claimed");
    r_->clock().Advance(absl::Seconds(10));  // within the lease
    return r_->jobs().Complete((*lease)->lease_id,
                               {.adapter_digest = Sha256Hex("adapter-" + concept),
                                .metrics = "m-" + concept});
  }

  std::unique_ptr<TestRegistry> r_;
};

TEST_F(LineageStoreTest, LineageIsTheOrderedChainWithImagesAndSettings) {
  STAMINA_ASSERT_OK(r_->AddModel("t1", "m"));
  EXPECT_THAT(r_->lineage().Lineage("t1", "m", std::nullopt),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no version")));
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(TrainNow("mill").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<LineageStep> steps,
                               r_->lineage().Lineage("t1", "m", std::nullopt));
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].version.concept_id, "anna");
  EXPECT_EQ(steps[0].version.token, "<anna>");
  EXPECT_EQ(steps[0].version.settings, "s-anna");
  EXPECT_EQ(steps[0].version.metrics, "m-anna");
  EXPECT_EQ(steps[0].version.adapter_digest, Sha256Hex("adapter-anna"));
  EXPECT_EQ(steps[0].version.base_digest, Sha256Hex("tiny weights"));
  EXPECT_EQ(steps[1].version.parent_version, 1);
  EXPECT_EQ(steps[1].version.depth, 2);
  std::vector<std::string> expected = {TestRegistry::ImageDigest("m", "mill", 0),
                                       TestRegistry::ImageDigest("m", "mill", 1)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(steps[1].image_digests, expected);
  // Lineage of a named older version.
  EXPECT_EQ(r_->lineage().Lineage("t1", "m", 1)->size(), 1u);
  EXPECT_THAT(r_->lineage().Lineage("t1", "m", 9),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r_->lineage().Lineage("t2", "m", 1),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST_F(LineageStoreTest, RollbackBranchesTheTree) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());  // v1
  STAMINA_ASSERT_OK(TrainNow("mill").status());  // v2 <- v1
  STAMINA_ASSERT_OK(TrainNow("rex").status());   // v3 <- v2
  STAMINA_ASSERT_OK_AND_ASSIGN(ModelRecord model, r_->lineage().Rollback("t1", "m", 1));
  EXPECT_EQ(model.head_version, 1);
  STAMINA_ASSERT_OK_AND_ASSIGN(VersionRecord tower, TrainNow("tower"));  // v4 <- v1
  EXPECT_EQ(tower.version, 4);
  EXPECT_EQ(tower.parent_version, 1);

  STAMINA_ASSERT_OK_AND_ASSIGN(auto steps, r_->lineage().Lineage("t1", "m", 4));
  std::vector<VersionRecord> chain;
  for (auto& s : steps) chain.push_back(s.version);
  EXPECT_THAT(Concepts(chain), ElementsAre("anna", "tower"));
  EXPECT_EQ(r_->lineage().Lineage("t1", "m", 3)->size(), 3u);

  STAMINA_ASSERT_OK_AND_ASSIGN(VersionDiff diff, r_->lineage().Diff("t1", "m", 3, 4));
  EXPECT_EQ(diff.common_ancestor, 1);
  EXPECT_THAT(Concepts(diff.only_in_a), ElementsAre("mill", "rex"));
  EXPECT_THAT(Concepts(diff.only_in_b), ElementsAre("tower"));

  STAMINA_ASSERT_OK_AND_ASSIGN(auto with_mill,
                               r_->lineage().VersionsContaining("t1", "m", "mill"));
  ASSERT_EQ(with_mill.size(), 2u);
  EXPECT_EQ(with_mill[0].version, 2);
  EXPECT_EQ(with_mill[1].version, 3);
  EXPECT_EQ(r_->lineage().VersionsContaining("t1", "m", "anna")->size(), 4u);

  STAMINA_ASSERT_OK_AND_ASSIGN(VersionPage page,
                               r_->lineage().ListVersions("t1", "m", 3, ""));
  ASSERT_EQ(page.versions.size(), 3u);
  EXPECT_EQ(page.versions[0].version, 4);
  STAMINA_ASSERT_OK_AND_ASSIGN(VersionPage rest, r_->lineage().ListVersions(
                                                     "t1", "m", 3, page.next_page_token));
  ASSERT_EQ(rest.versions.size(), 1u);
  EXPECT_EQ(rest.versions[0].version, 1);
}

TEST_F(LineageStoreTest, RollbackRefusedWhileAJobRuns) {
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m", "mill", 1));
  STAMINA_ASSERT_OK(r_->jobs().Create({.tenant_id = "t1", .model_id = "m",
                                       .concept_id = "mill"}).status());
  STAMINA_ASSERT_OK(r_->jobs().Claim("w", absl::Seconds(30)).status());
  EXPECT_THAT(r_->lineage().Rollback("t1", "m", 1),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("running")));
  EXPECT_THAT(r_->lineage().Rollback("t1", "m", 7),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST_F(LineageStoreTest, AForkSharesTheChainByDigestAndOutlivesTheSourcesErasures) {
  STAMINA_ASSERT_OK(r_->AddModel("t1", "m"));
  STAMINA_ASSERT_OK(TrainNow("anna").status());
  STAMINA_ASSERT_OK(TrainNow("mill").status());
  STAMINA_ASSERT_OK(TrainNow("rex").status());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<LineageStep> source,
                               r_->lineage().Lineage("t1", "m", 2));
  const ModelFork fork = {.tenant_id = "t1",
                          .source_model_id = "m",
                          .source_version = 2,
                          .model = {.tenant_id = "t1",
                                    .id = "f",
                                    .display_name = "Fork",
                                    .request_id = "fork-1",
                                    .request_sha256 = "x"}};
  STAMINA_ASSERT_OK_AND_ASSIGN(ModelRecord forked, r_->models().ForkModel(fork));
  EXPECT_EQ(forked.forked_from, "models/m/versions/2");
  EXPECT_EQ(forked.head_version, 2);
  EXPECT_EQ(forked.version_count, 2);
  EXPECT_EQ(forked.concept_count, 2);
  EXPECT_EQ(forked.base_digest, source[0].version.base_digest);
  // A retry returns the same fork.
  EXPECT_THAT(r_->models().ForkModel(fork),
              IsOkAndHolds(::testing::Field(&ModelRecord::create_time, forked.create_time)));

  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<LineageStep> steps,
                               r_->lineage().Lineage("t1", "f", std::nullopt));
  ASSERT_EQ(steps.size(), 2u);
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].version.version, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(steps[i].version.concept_id, source[i].version.concept_id);
    EXPECT_EQ(steps[i].version.token, source[i].version.token);
    EXPECT_EQ(steps[i].version.adapter_digest, source[i].version.adapter_digest);
    EXPECT_EQ(steps[i].version.settings, source[i].version.settings);
    EXPECT_EQ(steps[i].image_digests, source[i].image_digests);
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(ConceptRecord anna, r_->models().GetConcept("t1", "f", "anna"));
  EXPECT_EQ(anna.state, ConceptState::kTrained);

  EXPECT_THAT(r_->models().ForkModel({.tenant_id = "t1",
                                      .source_model_id = "m",
                                      .source_version = 3,
                                      .model = {.tenant_id = "t1", .id = "f"}}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("models/f")));
  EXPECT_THAT(r_->models().ForkModel({.tenant_id = "t1",
                                      .source_model_id = "m",
                                      .source_version = 9,
                                      .model = {.tenant_id = "t1", .id = "g"}}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("models/m/versions/9")));

  // Erasing anna from the source (versions 1-3 go) frees rex's adapter but
  // none of the bytes the fork uses.
  STAMINA_ASSERT_OK_AND_ASSIGN(DeletedConcept erased,
                               r_->models().DeleteConcept("t1", "m", "anna", /*force=*/true));
  EXPECT_THAT(erased.erased.unreferenced_blobs, ElementsAre(Sha256Hex("adapter-rex")));
  STAMINA_ASSERT_OK_AND_ASSIGN(steps, r_->lineage().Lineage("t1", "f", std::nullopt));
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].version.adapter_digest, Sha256Hex("adapter-anna"));
}

}  // namespace
}  // namespace stamina::storage
