#include "server/erasure_prover.h"

#include <algorithm>

#include "common/status_macros.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "images/png_codec.h"
#include "storage/sha256.h"
#include "storage/testing/test_registry.h"

namespace stamina::server {
namespace {

using ::testing::HasSubstr;

// Draws flat grey images: 0 for the base model, 51 per version number for a
// version, so a version's drift from the base model is 0.2 x its number.
class FakeRouter final : public rpc::SampleRouter {
 public:
  absl::Status Sample(const rpc::ModelRecipe& recipe, const rpc::SampleParams& params,
                      rpc::SampleSink& sink) override {
    const int value = recipe.version.has_value() ? std::min<int64_t>(255, 51 * *recipe.version) : 0;
    for (int i = 0; i < params.count; ++i) {
      images::DecodedImage image{.width = 8, .height = 8};
      image.rgb.assign(8 * 8 * 3, static_cast<uint8_t>(value));
      STAMINA_ASSIGN_OR_RETURN(std::string png, images::EncodePng(image));
      STAMINA_RETURN_IF_ERROR(sink.Image({.index = i, .png = png, .width = 8, .height = 8}));
    }
    return absl::OkStatus();
  }
  absl::Status Warm(const rpc::ModelRecipe&, const std::function<bool()>&) override {
    return absl::OkStatus();
  }
};

class ErasureProverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = storage::TestRegistry::Create();
    ASSERT_THAT(registry, IsOk());
    r_ = std::move(*registry);
    auto prover = ErasureProver::Create(
        {.router = &router_,
         .erasures = &r_->erasures(),
         .recipe_of = [](const std::string& tenant, const std::string& model,
                         std::optional<int64_t> version) -> absl::StatusOr<rpc::ModelRecipe> {
           return rpc::ModelRecipe{.tenant_id = tenant, .model_id = model, .version = version};
         },
         .params = {.count = 2, .steps = 2, .seed = 1},
         .log = [this](const std::string& line) { log_.push_back(line); }});
    ASSERT_THAT(prover, IsOk());
    prover_ = std::move(*prover);
  }

  // Queues and completes a job for a new concept; returns the version.
  absl::StatusOr<int64_t> Train(const std::string& concept) {
    STAMINA_RETURN_IF_ERROR(r_->AddTrainableConcept("t1", "m", concept, 2));
    STAMINA_RETURN_IF_ERROR(
        r_->jobs().Create({.tenant_id = "t1", .model_id = "m", .concept_id = concept}).status());
    return CompleteNext();
  }
  absl::StatusOr<int64_t> CompleteNext() {
    STAMINA_ASSIGN_OR_RETURN(std::optional<storage::JobLease> lease,
                             r_->jobs().Claim("w", absl::Seconds(30)));
    if (!lease.has_value()) return absl::InternalError("nothing to claim");
    STAMINA_ASSIGN_OR_RETURN(
        storage::VersionRecord v,
        r_->jobs().Complete(lease->lease_id,
                            {.adapter_digest = storage::Sha256Hex(lease->job.id)}));
    return v.version;
  }

  FakeRouter router_;
  std::unique_ptr<storage::TestRegistry> r_;
  std::vector<std::string> log_;  // written by the prover's thread, read after AwaitFinished
  std::unique_ptr<ErasureProver> prover_;
};

TEST_F(ErasureProverTest, DriftIsFromTheBaseModelWithTheSameSeeds) {
  EXPECT_EQ(ErasureProver::PromptFor("<anna>"), "a photo of <anna>");
  STAMINA_ASSERT_OK_AND_ASSIGN(double drift, prover_->Drift("t1", "m", 2, "a photo of <anna>", {}));
  EXPECT_NEAR(drift, 0.4, 1e-9);
  EXPECT_THAT(prover_->Drift("t1", "m", std::nullopt, "a photo", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no version")));
}

TEST_F(ErasureProverTest, RecordsTheDriftOfTheVersionThatFinishedTheReplay) {
  STAMINA_ASSERT_OK(Train("anna").status());  // v1
  STAMINA_ASSERT_OK(Train("mill").status());  // v2
  STAMINA_ASSERT_OK(Train("rex").status());   // v3
  STAMINA_ASSERT_OK_AND_ASSIGN(storage::ErasureResult erased,
                               r_->erasures().EraseConcept({.tenant_id = "t1",
                                                            .model_id = "m",
                                                            .concept_id = "anna",
                                                            .proof_prompt = "a photo of <anna>",
                                                            .drift_before = 0.6}));
  const std::string id = erased.erasure.id;
  STAMINA_ASSERT_OK_AND_ASSIGN(int64_t mill, CompleteNext());  // v4: one replay of two
  prover_->Enqueue("t1", "m", id, mill);
  ASSERT_TRUE(prover_->AwaitFinished(1, absl::Seconds(30)));
  EXPECT_EQ(r_->erasures().GetErasure("t1", "m", id)->drift_after, std::nullopt)
      << "still replaying: not measured";
  STAMINA_ASSERT_OK_AND_ASSIGN(int64_t rex, CompleteNext());  // v5 finishes the erasure
  prover_->Enqueue("t1", "m", id, rex);
  ASSERT_TRUE(prover_->AwaitFinished(2, absl::Seconds(30)));
  STAMINA_ASSERT_OK_AND_ASSIGN(storage::ErasureRecord proved,
                               r_->erasures().GetErasure("t1", "m", id));
  EXPECT_EQ(proved.proof_version, rex);
  ASSERT_TRUE(proved.drift_after.has_value());
  EXPECT_NEAR(*proved.drift_after, std::min(1.0, 0.2 * rex), 1e-9);
  EXPECT_THAT(log_, ::testing::Contains(HasSubstr("0.6000 before")));
  // Measured once: a repeat changes nothing.
  prover_->Enqueue("t1", "m", id, rex + 1);
  ASSERT_TRUE(prover_->AwaitFinished(3, absl::Seconds(30)));
  EXPECT_EQ(r_->erasures().GetErasure("t1", "m", id)->proof_version, rex);
}

}  // namespace
}  // namespace stamina::server
