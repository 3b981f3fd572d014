#include "storage/sqlite_model_store.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sha256.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class ModelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = TestRegistry::Create();
    ASSERT_THAT(registry, IsOk());
    r_ = std::move(*registry);
    ASSERT_THAT(r_->AddTenant("t1"), IsOk());
    ASSERT_THAT(r_->AddTenant("t2"), IsOk());
  }

  // Trains `concept` on the model's head: claim → complete.
  absl::StatusOr<VersionRecord> TrainNow(const std::string& model,
                                         const std::string& concept) {
    absl::Status added = r_->AddTrainableConcept("t1", model, concept, 2);
    if (!added.ok()) return added;
    auto job = r_->jobs().Create(
        {.tenant_id = "t1", .model_id = model, .concept_id = concept});
    if (!job.ok()) return job.status();
    auto lease = r_->jobs().Claim("w", absl::Seconds(30));
    if (!lease.ok()) return lease.status();
    if (!lease->has_value()) return absl::InternalError("nothing claimed");
    return r_->jobs().Complete((*lease)->lease_id,
                               {.adapter_digest = Sha256Hex("adapter-" + concept),
                                .adapter_size_bytes = 10});
  }

  std::unique_ptr<TestRegistry> r_;
};

TEST_F(ModelStoreTest, BaseModelsAreRegisteredOnce) {
  const std::string digest = Sha256Hex("sd15");
  STAMINA_ASSERT_OK(r_->models().PutBaseModel({.id = "sd15", .digest = digest}).status());
  STAMINA_ASSERT_OK(r_->models().PutBaseModel({.id = "sd15", .digest = digest}).status());
  EXPECT_THAT(r_->models().PutBaseModel({.id = "sd15", .digest = Sha256Hex("x")}),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r_->models().PutBaseModel({.id = "bad", .digest = "xyz"}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(r_->models().ListBaseModels()->size(), 2u);
}

TEST_F(ModelStoreTest, ModelsAreScopedToTheirTenant) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      ModelRecord m, r_->models().CreateModel({.tenant_id = "t1", .id = "family",
                                               .display_name = "Family",
                                               .base_model_id = TestRegistry::kBaseModel}));
  EXPECT_EQ(m.base_digest, Sha256Hex("tiny weights"));
  EXPECT_EQ(m.head_version, std::nullopt);
  EXPECT_EQ(m.version_count, 0);
  EXPECT_THAT(r_->models().GetModel("t2", "family"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("models/family")));
  // The same id is free for another tenant.
  STAMINA_ASSERT_OK(r_->models().CreateModel({.tenant_id = "t2", .id = "family",
                                              .base_model_id = TestRegistry::kBaseModel})
                        .status());
  EXPECT_THAT(r_->models().CreateModel({.tenant_id = "t1", .id = "family",
                                        .base_model_id = TestRegistry::kBaseModel}),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r_->models().CreateModel({.tenant_id = "t1", .id = "x",
                                        .base_model_id = "sdxl"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("base_model")));
  EXPECT_THAT(r_->models().CreateModel({.tenant_id = "ghost", .id = "x",
                                        .base_model_id = TestRegistry::kBaseModel}),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r_->models().CreateModel({.tenant_id = "t1", .id = "-x",
                                        .base_model_id = TestRegistry::kBaseModel}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model_id")));
}

// The quotas are counted in the create's transaction; deleting frees room.
TEST_F(ModelStoreTest, ModelAndConceptQuotasAreEnforcedAtCreate) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto r, TestRegistry::Create({.max_models_per_tenant = 2, .max_concepts_per_model = 1}));
  STAMINA_ASSERT_OK(r->AddModel("t1", "a"));
  STAMINA_ASSERT_OK(r->AddModel("t1", "b"));
  EXPECT_THAT(r->models().CreateModel({.tenant_id = "t1", .id = "c",
                                       .base_model_id = TestRegistry::kBaseModel}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("the tenant has 2 models; its quota is 2")));
  STAMINA_ASSERT_OK(r->AddModel("t2", "c"));  // another tenant's quota
  STAMINA_ASSERT_OK(r->models().DeleteModel("t1", "b").status());
  STAMINA_ASSERT_OK(r->AddModel("t1", "c"));

  STAMINA_ASSERT_OK(r->models().CreateConcept({.tenant_id = "t1", .model_id = "a",
                                               .id = "anna", .token = "<anna>"})
                        .status());
  EXPECT_THAT(r->models().CreateConcept({.tenant_id = "t1", .model_id = "a",
                                         .id = "mill", .token = "<mill>"}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("models/a has 1 concepts")));
  STAMINA_ASSERT_OK(r->models().CreateConcept({.tenant_id = "t1", .model_id = "c",
                                               .id = "mill", .token = "<mill>"})
                        .status());
}

TEST_F(ModelStoreTest, ListModelsPagesNewestFirst) {
  for (const char* id : {"a", "b", "c"}) STAMINA_ASSERT_OK(r_->AddModel("t1", id));
  STAMINA_ASSERT_OK(r_->AddModel("t2", "z"));
  STAMINA_ASSERT_OK_AND_ASSIGN(ModelPage first, r_->models().ListModels("t1", 2, ""));
  ASSERT_EQ(first.models.size(), 2u);
  EXPECT_EQ(first.models[0].id, "c");
  EXPECT_EQ(first.models[1].id, "b");
  STAMINA_ASSERT_OK_AND_ASSIGN(ModelPage second,
                               r_->models().ListModels("t1", 2, first.next_page_token));
  ASSERT_EQ(second.models.size(), 1u);
  EXPECT_EQ(second.models[0].id, "a");
  EXPECT_TRUE(second.next_page_token.empty());
  EXPECT_THAT(r_->models().ListModels("t1", 0, "zz"),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ModelStoreTest, ConceptsHaveUniqueIdsAndTokensPerModel) {
  STAMINA_ASSERT_OK(r_->AddModel("t1", "m"));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      ConceptRecord anna,
      r_->models().CreateConcept({.tenant_id = "t1", .model_id = "m", .id = "anna",
                                  .token = "<anna>",
                                  .caption_templates = {"a photo of {}", "{} smiling"}}));
  EXPECT_EQ(anna.state, ConceptState::kDraft);
  EXPECT_THAT(anna.caption_templates, ElementsAre("a photo of {}", "{} smiling"));
  EXPECT_THAT(r_->models().CreateConcept({.tenant_id = "t1", .model_id = "m",
                                          .id = "anna2", .token = "<anna>"}),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r_->models().CreateConcept({.tenant_id = "t1", .model_id = "m",
                                          .id = "anna", .token = "<other>"}),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r_->models().CreateConcept({.tenant_id = "t1", .model_id = "m",
                                          .id = "bob", .token = "bob"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("concept.token")));
  EXPECT_THAT(r_->models().CreateConcept({.tenant_id = "t1", .model_id = "m",
                                          .id = "bob", .token = "<bob>",
                                          .caption_templates = {"a\nb"}}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r_->models().CreateConcept({.tenant_id = "t2", .model_id = "m",
                                          .id = "bob", .token = "<bob>"}),
              StatusCodeIs(absl::StatusCode::kNotFound));
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m", "bob", 0));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto concepts, r_->models().ListConcepts("t1", "m"));
  ASSERT_EQ(concepts.size(), 2u);
  EXPECT_EQ(concepts[0].id, "anna");
  EXPECT_EQ(r_->models().GetModel("t1", "m")->concept_count, 2);
}

TEST_F(ModelStoreTest, ImageLimitIsCheckedInTheAddsTransactionAllOrNone) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create({.max_images_per_concept = 3}));
  STAMINA_ASSERT_OK(r->AddTrainableConcept("t1", "m", "anna", 0));
  auto image = [](const std::string& name) {
    return ImageRecord{.digest = Sha256Hex(name), .width = 64, .height = 64,
                       .size_bytes = 10, .filename = name};
  };
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::vector<AddedImage> added,
      r->models().AddImages("t1", "m", "anna", {image("a"), image("b"), image("a")}));
  ASSERT_EQ(added.size(), 3u);
  EXPECT_TRUE(added[0].created);
  EXPECT_FALSE(added[2].created);  // the same bytes twice in one call
  EXPECT_THAT(r->models().AddImages("t1", "m", "anna", {image("c"), image("d")}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("the concept would have 4 images; the limit is 3")));
  EXPECT_EQ(r->models().ListImages("t1", "m", "anna")->size(), 2u);  // none of c, d
  STAMINA_ASSERT_OK(r->models().AddImages("t1", "m", "anna", {image("c"), image("a")}));
  EXPECT_EQ(r->models().ListImages("t1", "m", "anna")->size(), 3u);
}

// The storage quota counts each digest a tenant holds once (images over all
// its concepts, plus adapter artifacts), is checked inside the add's own
// transaction (all or none), and never refuses bytes the tenant already has.
TEST_F(ModelStoreTest, StoredBytesQuotaCountsEachDigestOnceAllOrNone) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r,
                               TestRegistry::Create({.max_stored_bytes_per_tenant = 12000}));
  STAMINA_ASSERT_OK(r->AddTrainableConcept("t1", "m", "anna", 0));
  STAMINA_ASSERT_OK(r->AddTrainableConcept("t1", "m", "bob", 0));
  STAMINA_ASSERT_OK(r->AddTrainableConcept("t2", "m", "anna", 0));
  auto image = [](const std::string& name, int64_t bytes) {
    return ImageRecord{.digest = Sha256Hex(name), .width = 64, .height = 64,
                       .size_bytes = bytes, .filename = name};
  };
  STAMINA_ASSERT_OK(r->models().AddImages("t1", "m", "anna", {image("a", 5000)}));
  // The same bytes in another concept of the tenant are not counted again.
  STAMINA_ASSERT_OK(
      r->models().AddImages("t1", "m", "bob", {image("a", 5000), image("b", 5000)}));
  EXPECT_THAT(r->models().AddImages("t1", "m", "anna", {image("c", 1000), image("d", 1500)}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("the tenant would store 12500 bytes; its quota is 12000 "
                                 "(Limits.max_stored_bytes_per_tenant)")));
  EXPECT_EQ(r->models().ListImages("t1", "m", "anna")->size(), 1u);  // neither c nor d
  // Another tenant's quota is its own.
  STAMINA_ASSERT_OK(r->models().AddImages("t2", "m", "anna", {image("e", 11000)}));
  STAMINA_ASSERT_OK(r->models().AddImages("t1", "m", "anna", {image("c", 1000)}));

  // A trained adapter counts and is never refused; afterwards only bytes the
  // tenant already holds may be added.
  STAMINA_ASSERT_OK(r->jobs().Create({.tenant_id = "t1", .model_id = "m",
                                      .concept_id = "anna"}).status());
  STAMINA_ASSERT_OK_AND_ASSIGN(auto lease, r->jobs().Claim("w", absl::Seconds(30)));
  ASSERT_TRUE(lease.has_value());
  STAMINA_ASSERT_OK(r->jobs()
                        .Complete(lease->lease_id, {.adapter_digest = Sha256Hex("adapter"),
                                                    .adapter_size_bytes = 4000})
                        .status());
  EXPECT_THAT(r->models().AddImages("t1", "m", "bob", {image("f", 1)}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("the tenant would store 15001 bytes")));
  STAMINA_ASSERT_OK(r->models().AddImages("t1", "m", "bob", {image("c", 1000)}));
  STAMINA_ASSERT_OK(r->models().RemoveImage("t1", "m", "bob", Sha256Hex("b")).status());
  STAMINA_ASSERT_OK(r->models().AddImages("t1", "m", "bob", {image("f", 1)}));
}

TEST_F(ModelStoreTest, ImagesAreDeduplicatedAndShared) {
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m", "anna", 0));
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m", "bob", 0));
  const ImageRecord image{.digest = Sha256Hex("photo"), .format = ImageFormat::kJpeg,
                          .width = 640, .height = 480, .size_bytes = 5000,
                          .filename = "p.jpg", .caption = "{} at the beach"};
  STAMINA_ASSERT_OK_AND_ASSIGN(AddedImage first,
                               r_->models().AddImage("t1", "m", "anna", image));
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.image.width, 640);
  EXPECT_EQ(first.image.size_bytes, 5000);
  EXPECT_EQ(first.image.caption, "{} at the beach");
  STAMINA_ASSERT_OK_AND_ASSIGN(AddedImage again,
                               r_->models().AddImage("t1", "m", "anna", image));
  EXPECT_FALSE(again.created);
  STAMINA_ASSERT_OK(r_->models().AddImage("t1", "m", "bob", image).status());
  EXPECT_EQ(r_->models().ListImages("t1", "m", "anna")->size(), 1u);
  EXPECT_EQ(r_->models().GetConcept("t1", "m", "anna")->image_count, 1);

  // Removing it from one concept keeps the bytes the other still uses.
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureReport kept,
                               r_->models().RemoveImage("t1", "m", "anna", image.digest));
  EXPECT_EQ(kept.image_references, 1);
  EXPECT_THAT(kept.unreferenced_blobs, IsEmpty());
  EXPECT_THAT(kept.released_blobs, IsEmpty());
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureReport gone,
                               r_->models().RemoveImage("t1", "m", "bob", image.digest));
  EXPECT_THAT(gone.unreferenced_blobs, ElementsAre(image.digest));
  EXPECT_THAT(gone.released_blobs, ElementsAre(image.digest));
  EXPECT_EQ(gone.released_bytes, 5000);
  EXPECT_THAT(r_->models().RemoveImage("t1", "m", "bob", image.digest),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r_->models().AddImage("t1", "m", "anna", {.digest = "nothex"}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

// Storage deduplicates across tenants, but what a tenant is told about its
// deletes depends on its own rows only: t2 holding the same bytes changes
// nothing t1 sees (only whether the bytes physically stay).
TEST_F(ModelStoreTest, DeleteReportsDoNotDependOnOtherTenants) {
  const ImageRecord image{.digest = Sha256Hex("photo"), .width = 8, .height = 8,
                          .size_bytes = 5000};
  auto delete_report = [&](bool other_tenant_holds_it) {
    EXPECT_TRUE(r_->AddTrainableConcept("t1", "m", "anna", 0).ok());
    EXPECT_TRUE(r_->models().AddImage("t1", "m", "anna", image).ok());
    if (other_tenant_holds_it) {
      EXPECT_TRUE(r_->AddTrainableConcept("t2", "m", "anna", 0).ok());
      EXPECT_TRUE(r_->models().AddImage("t2", "m", "anna", image).ok());
    }
    auto report = r_->models().DeleteModel("t1", "m");
    EXPECT_TRUE(report.ok()) << report.status();
    return *report;
  };
  const ErasureReport alone = delete_report(false);
  const ErasureReport shared = delete_report(true);
  EXPECT_THAT(alone.released_blobs, ElementsAre(image.digest));
  EXPECT_EQ(alone.released_blobs, shared.released_blobs);
  EXPECT_EQ(alone.released_bytes, 5000);
  EXPECT_EQ(shared.released_bytes, 5000);
  // Internally the bytes stay while t2 references them, and go with t2's.
  EXPECT_THAT(alone.unreferenced_blobs, ElementsAre(image.digest));
  EXPECT_THAT(shared.unreferenced_blobs, IsEmpty());
  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureReport last, r_->models().DeleteModel("t2", "m"));
  EXPECT_THAT(last.released_blobs, ElementsAre(image.digest));
  EXPECT_EQ(last.released_bytes, 5000);
  EXPECT_THAT(last.unreferenced_blobs, ElementsAre(image.digest));
}

TEST_F(ModelStoreTest, DeleteModelErasesEverythingAndReportsIt) {
  STAMINA_ASSERT_OK(TrainNow("m", "anna").status());
  STAMINA_ASSERT_OK(TrainNow("m", "bob").status());
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m", "cat", 1));
  STAMINA_ASSERT_OK(r_->jobs().Create({.tenant_id = "t1", .model_id = "m",
                                       .concept_id = "cat"}).status());
  // Another model shares one of anna's images: those bytes must survive.
  const std::string shared = TestRegistry::ImageDigest("m", "anna", 0);
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "other", "x", 0));
  STAMINA_ASSERT_OK(r_->models().AddImage("t1", "other", "x",
                                          {.digest = shared, .size_bytes = 1000}).status());

  STAMINA_ASSERT_OK_AND_ASSIGN(ErasureReport report, r_->models().DeleteModel("t1", "m"));
  EXPECT_THAT(report.models, ElementsAre("models/m"));
  EXPECT_THAT(report.concepts, ElementsAre("models/m/concepts/anna",
                                           "models/m/concepts/bob",
                                           "models/m/concepts/cat"));
  EXPECT_THAT(report.versions, UnorderedElementsAre("models/m/versions/1",
                                                    "models/m/versions/2"));
  EXPECT_EQ(report.jobs.size(), 3u);
  EXPECT_EQ(report.image_references, 5);
  // 4 unshared images + 2 adapters.
  EXPECT_EQ(report.unreferenced_blobs.size(), 6u);
  EXPECT_EQ(std::count(report.unreferenced_blobs.begin(),
                       report.unreferenced_blobs.end(), shared), 0);
  EXPECT_EQ(report.released_blobs.size(), 6u);
  EXPECT_THAT(r_->models().GetModel("t1", "m"),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(r_->jobs().List({.tenant_id = "t1"})->jobs.size(), 0u);
  EXPECT_EQ(r_->models().ListImages("t1", "other", "x")->size(), 1u);
  STAMINA_ASSERT_OK(r_->db().CheckIntegrity());
  // Deleting twice is NOT_FOUND, not a crash.
  EXPECT_THAT(r_->models().DeleteModel("t1", "m"),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST_F(ModelStoreTest, DeleteTrainedConceptNeedsForceAndPrunesItsSubtree) {
  STAMINA_ASSERT_OK(TrainNow("m", "anna").status());   // v1
  STAMINA_ASSERT_OK(TrainNow("m", "bob").status());    // v2 (parent 1)
  STAMINA_ASSERT_OK(TrainNow("m", "cat").status());    // v3 (parent 2)
  EXPECT_THAT(r_->models().DeleteConcept("t1", "m", "bob", false),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("force")));
  STAMINA_ASSERT_OK_AND_ASSIGN(DeletedConcept deleted,
                               r_->models().DeleteConcept("t1", "m", "bob", true));
  EXPECT_THAT(deleted.erased.versions,
              UnorderedElementsAre("models/m/versions/2", "models/m/versions/3"));
  EXPECT_THAT(deleted.erased.concepts, ElementsAre("models/m/concepts/bob"));
  EXPECT_EQ(deleted.head_version, 1);
  STAMINA_ASSERT_OK_AND_ASSIGN(ModelRecord model, r_->models().GetModel("t1", "m"));
  EXPECT_EQ(model.head_version, 1);
  EXPECT_EQ(model.version_count, 1);
  // cat lost its only version: it can be trained again.
  EXPECT_EQ(r_->models().GetConcept("t1", "m", "cat")->state, ConceptState::kDraft);
  EXPECT_EQ(r_->models().GetConcept("t1", "m", "anna")->state, ConceptState::kTrained);
  // New versions never reuse numbers.
  STAMINA_ASSERT_OK(r_->jobs().Create({.tenant_id = "t1", .model_id = "m",
                                       .concept_id = "cat"}).status());
  STAMINA_ASSERT_OK_AND_ASSIGN(auto lease, r_->jobs().Claim("w", absl::Seconds(30)));
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->job.parent_version, 1);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      VersionRecord v4, r_->jobs().Complete(lease->lease_id,
                                            {.adapter_digest = Sha256Hex("cat2")}));
  EXPECT_EQ(v4.version, 4);
  STAMINA_ASSERT_OK(r_->db().CheckIntegrity());
}

TEST_F(ModelStoreTest, DeleteDraftConceptCancelsItsQueuedJob) {
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m", "anna", 2));
  STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job, r_->jobs().Create(
      {.tenant_id = "t1", .model_id = "m", .concept_id = "anna"}));
  STAMINA_ASSERT_OK_AND_ASSIGN(DeletedConcept deleted,
                               r_->models().DeleteConcept("t1", "m", "anna", false));
  EXPECT_THAT(deleted.erased.jobs, ElementsAre("models/m/jobs/" + job.id));
  EXPECT_EQ(deleted.erased.image_references, 2);
  EXPECT_EQ(deleted.erased.unreferenced_blobs.size(), 2u);
  EXPECT_THAT(r_->jobs().Claim("w", absl::Seconds(30)),
              IsOkAndHolds(::testing::Eq(std::nullopt)));
}

TEST_F(ModelStoreTest, DeleteConceptRefusedWhileItsJobRuns) {
  STAMINA_ASSERT_OK(r_->AddTrainableConcept("t1", "m", "anna", 2));
  STAMINA_ASSERT_OK(r_->jobs().Create({.tenant_id = "t1", .model_id = "m",
                                       .concept_id = "anna"}).status());
  STAMINA_ASSERT_OK(r_->jobs().Claim("w", absl::Seconds(30)).status());
  EXPECT_THAT(r_->models().DeleteConcept("t1", "m", "anna", true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cancel")));
}

}  // namespace
}  // namespace stamina::storage
