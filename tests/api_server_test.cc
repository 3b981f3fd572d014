// Integration: the stamina.v1 front end over loopback (port 0, the real gRPC
// stack, a real SQLite file and blob directory under TEST_TMPDIR). A fake
// worker thread drives jobs through the job store, standing in for the
// worker pool until it exists.

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/support/byte_buffer.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "images/test_images.h"
#include "server/api_server.h"
#include "stamina/v1/concept_service.grpc.pb.h"
#include "stamina/v1/model_service.grpc.pb.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"
#include "storage/sha256.h"
#include "tests/loopback.h"

namespace stamina {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServiceLimits limits;
    limits.min_images_per_concept = 2;
    auto created = server::ApiServer::Create(
        {.data_dir = FreshTestDir("api"),
         .limits = limits,
         .base_models = {{.id = "stamina-tiny-v1",
                          .digest = storage::Sha256Hex("weights")}},
         .watch_poll_interval = absl::Milliseconds(5),
         // civetweb takes ~2 s to stop: only the metrics test starts it.
         .metrics_address = WithMetrics() ? "127.0.0.1:0" : ""});
    ASSERT_THAT(created, IsOk());
    server_ = std::move(*created);
    api_ = ConnectApi(server_->port());
    for (const char* tenant : {"acme", "globex"}) {
      ASSERT_THAT(server_->tenants().CreateTenant(tenant, ""), IsOk());
      auto key = server_->tenants().CreateApiKey(tenant);
      ASSERT_THAT(key, IsOk());
      keys_[tenant] = key->secret;
    }
  }

  virtual bool WithMetrics() const { return false; }

  std::unique_ptr<grpc::ClientContext> As(const std::string& tenant) {
    return WithApiKey(keys_[tenant]);
  }

  // Attaches `n` images to a concept through the store (uploads are tested
  // with the image pipeline).
  void AddImages(const std::string& tenant, const std::string& model,
                 const std::string& concept, int n) {
    for (int i = 0; i < n; ++i) {
      auto digest = server_->blobs().Put(absl::StrCat(concept, i));
      ASSERT_THAT(digest, IsOk());
      ASSERT_THAT(server_->models().AddImage(
                      tenant, model, concept,
                      {.digest = *digest, .width = 32, .height = 32, .size_bytes = 2}),
                  IsOk());
    }
  }

  // Plays a worker: claims the next job and completes it.
  void RunOneJob() {
    auto lease = server_->jobs().Claim("fake-worker", absl::Seconds(30));
    ASSERT_THAT(lease, IsOk());
    ASSERT_TRUE(lease->has_value());
    ASSERT_THAT(server_->jobs().Heartbeat(
                    (*lease)->lease_id,
                    {.phase = storage::JobPhase::kTraining, .step = 5,
                     .total_steps = 10, .loss = 0.25f, .training_seconds = 20},
                    absl::Seconds(30)),
                IsOk());
    v1::TrainingMetrics metrics;
    metrics.set_final_loss(0.125);
    ASSERT_THAT(server_->jobs().Complete(
                    (*lease)->lease_id,
                    {.adapter_digest = storage::Sha256Hex((*lease)->job.id),
                     .metrics = metrics.SerializeAsString()}),
                IsOk());
  }

  v1::Model CreateModel(const std::string& tenant, const std::string& id) {
    v1::CreateModelRequest request;
    request.mutable_model()->set_base_model("baseModels/stamina-tiny-v1");
    request.set_model_id(id);
    v1::Model model;
    grpc::Status status = api_.models->CreateModel(As(tenant).get(), request, &model);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return model;
  }

  v1::Concept CreateConcept(const std::string& tenant, const std::string& model,
                            const std::string& id) {
    v1::CreateConceptRequest request;
    request.set_parent("models/" + model);
    request.set_concept_id(id);
    request.mutable_concept()->set_token("<" + id + ">");
    v1::Concept concept_proto;
    grpc::Status status =
        api_.concepts->CreateConcept(As(tenant).get(), request, &concept_proto);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return concept_proto;
  }

  absl::StatusOr<v1::Job> Train(const std::string& tenant, const std::string& model,
                                const std::string& concept,
                                const std::string& request_id = "") {
    v1::TrainConceptRequest request;
    request.set_parent("models/" + model);
    request.set_concept("models/" + model + "/concepts/" + concept);
    request.set_request_id(request_id);
    request.mutable_settings()->set_steps(10);
    v1::Job job;
    grpc::Status status = api_.training->TrainConcept(As(tenant).get(), request, &job);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return job;
  }

  std::unique_ptr<server::ApiServer> server_;
  ApiStubs api_;
  std::map<std::string, std::string> keys_;
};

TEST_F(ApiServerTest, RequiresAValidKey) {
  v1::GetModelRequest request;
  request.set_name("models/x");
  v1::Model model;
  grpc::ClientContext anonymous;
  EXPECT_EQ(api_.models->GetModel(&anonymous, request, &model).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext wrong;
  wrong.AddMetadata("authorization", "Bearer stk_nope");
  grpc::Status status = api_.models->GetModel(&wrong, request, &model);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("stk_nope")));
  // The scheme is case-insensitive (RFC 7235).
  for (const char* scheme : {"bearer ", "BEARER ", "Bearer  "}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", scheme + keys_["acme"]);
    v1::ListModelsResponse models;
    EXPECT_TRUE(api_.models->ListModels(&context, {}, &models).ok()) << scheme;
  }
  // An 8 KiB header is a clear UNAUTHENTICATED, not a dropped connection.
  grpc::ClientContext huge;
  huge.AddMetadata("authorization", "Bearer " + std::string(8 << 10, 'k'));
  status = api_.models->GetModel(&huge, request, &model);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("authorization: the API key is 8192"));
}

TEST_F(ApiServerTest, HealthAndCapabilities) {
  auto health = grpc::health::v1::Health::NewStub(api_.channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  v1::Capabilities capabilities;
  ASSERT_TRUE(api_.sampler->GetCapabilities(As("acme").get(), {}, &capabilities).ok());
  EXPECT_EQ(capabilities.limits().min_images_per_concept(), 2);
  ASSERT_EQ(capabilities.base_models_size(), 1);
  EXPECT_EQ(capabilities.base_models(0).name(), "baseModels/stamina-tiny-v1");
  EXPECT_EQ(capabilities.training_methods_size(), 3);
}

TEST_F(ApiServerTest, FullFlowTwoConceptsInOrderThenLineageRollbackDelete) {
  v1::Model model = CreateModel("acme", "family");
  EXPECT_EQ(model.name(), "models/family");
  EXPECT_EQ(model.base_model_digest(), storage::Sha256Hex("weights"));
  CreateConcept("acme", "family", "anna");
  CreateConcept("acme", "family", "mill");
  // Too few images is a precondition failure, named.
  EXPECT_THAT(Train("acme", "family", "anna"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("images")));
  AddImages("acme", "family", "anna", 2);
  AddImages("acme", "family", "mill", 3);
  STAMINA_ASSERT_OK_AND_ASSIGN(v1::Job first, Train("acme", "family", "anna", "r1"));
  STAMINA_ASSERT_OK_AND_ASSIGN(v1::Job retried, Train("acme", "family", "anna", "r1"));
  EXPECT_EQ(retried.name(), first.name());  // idempotent
  EXPECT_EQ(first.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(first.settings().method(), v1::TRAINING_METHOD_STAMINA);
  EXPECT_EQ(first.settings().steps(), 10);
  EXPECT_NE(first.settings().seed(), 0);
  STAMINA_ASSERT_OK_AND_ASSIGN(v1::Job second, Train("acme", "family", "mill"));
  EXPECT_EQ(first.progress().queue_position(), 0);
  EXPECT_EQ(second.progress().queue_position(), 1);

  // Watch the first job while a fake worker runs both, in order.
  v1::WatchJobRequest watch;
  watch.set_name(first.name());
  watch.set_min_interval_ms(1);
  auto watch_context = As("acme");
  auto reader = api_.training->WatchJob(watch_context.get(), watch);
  std::thread worker([&] {
    RunOneJob();
    RunOneJob();
  });
  std::vector<v1::JobState> states;
  v1::WatchJobResponse update;
  while (reader->Read(&update)) states.push_back(update.job().state());
  ASSERT_TRUE(reader->Finish().ok());
  worker.join();
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(update.job().result_version(), "models/family/versions/1");

  v1::GetJobRequest get;
  get.set_name(second.name());
  v1::Job done;
  ASSERT_TRUE(api_.training->GetJob(As("acme").get(), get, &done).ok());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.parent_version(), "models/family/versions/1");

  v1::GetLineageRequest lineage_request;
  lineage_request.set_name("models/family");
  v1::Lineage lineage;
  ASSERT_TRUE(api_.models->GetLineage(As("acme").get(), lineage_request, &lineage).ok());
  ASSERT_EQ(lineage.entries_size(), 2);
  EXPECT_EQ(lineage.entries(0).token(), "<anna>");
  EXPECT_EQ(lineage.entries(1).token(), "<mill>");
  EXPECT_EQ(lineage.entries(1).image_digests_size(), 3);
  EXPECT_EQ(lineage.entries(0).metrics().final_loss(), 0.125);
  EXPECT_EQ(lineage.entries(0).settings().steps(), 10);
  EXPECT_EQ(lineage.base_model_digest(), storage::Sha256Hex("weights"));

  v1::RollbackModelRequest rollback;
  rollback.set_name("models/family");
  rollback.set_version("models/family/versions/1");
  v1::Model rolled;
  ASSERT_TRUE(api_.models->RollbackModel(As("acme").get(), rollback, &rolled).ok());
  EXPECT_EQ(rolled.head_version(), "models/family/versions/1");

  v1::DeleteModelRequest del;
  del.set_name("models/family");
  v1::DeleteModelResponse erased;
  ASSERT_TRUE(api_.models->DeleteModel(As("acme").get(), del, &erased).ok());
  EXPECT_THAT(erased.erased().models(), ElementsAre("models/family"));
  EXPECT_EQ(erased.erased().versions_size(), 2);
  EXPECT_EQ(erased.erased().image_references(), 5);
  EXPECT_EQ(erased.erased().deleted_blob_digests_size(), 7);  // 5 images + 2 adapters
  for (const std::string& digest : erased.erased().deleted_blob_digests()) {
    EXPECT_THAT(server_->blobs().Has(digest), IsOkAndHolds(false));
  }
}

TEST_F(ApiServerTest, TenantsCannotSeeEachOther) {
  CreateModel("acme", "secret");
  CreateConcept("acme", "secret", "anna");
  AddImages("acme", "secret", "anna", 2);
  STAMINA_ASSERT_OK_AND_ASSIGN(v1::Job job, Train("acme", "secret", "anna"));

  v1::GetModelRequest get_model;
  get_model.set_name("models/secret");
  v1::Model model;
  EXPECT_EQ(api_.models->GetModel(As("globex").get(), get_model, &model).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::GetConceptRequest get_concept;
  get_concept.set_name("models/secret/concepts/anna");
  v1::Concept concept_proto;
  EXPECT_EQ(api_.concepts->GetConcept(As("globex").get(), get_concept, &concept_proto)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::CancelJobRequest cancel;
  cancel.set_name(job.name());
  v1::Job cancelled;
  EXPECT_EQ(api_.training->CancelJob(As("globex").get(), cancel, &cancelled).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::DeleteModelRequest del;
  del.set_name("models/secret");
  v1::DeleteModelResponse erased;
  EXPECT_EQ(api_.models->DeleteModel(As("globex").get(), del, &erased).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListModelsResponse listed;
  ASSERT_TRUE(api_.models->ListModels(As("globex").get(), {}, &listed).ok());
  EXPECT_EQ(listed.models_size(), 0);
  // globex may use the same model id for its own model.
  EXPECT_EQ(CreateModel("globex", "secret").name(), "models/secret");
  // And acme still can cancel its own job.
  EXPECT_TRUE(api_.training->CancelJob(As("acme").get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
}

TEST_F(ApiServerTest, BadInputNamesTheField) {
  v1::CreateModelRequest request;
  v1::Model model;
  grpc::Status status = api_.models->CreateModel(As("acme").get(), request, &model);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("model.base_model"));

  request.mutable_model()->set_base_model("baseModels/nope");
  status = api_.models->CreateModel(As("acme").get(), request, &model);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("base_model"));

  CreateModel("acme", "m");
  CreateConcept("acme", "m", "anna");
  AddImages("acme", "m", "anna", 2);
  v1::TrainConceptRequest train;
  train.set_parent("models/m");
  train.set_concept("models/other/concepts/anna");
  v1::Job job;
  status = api_.training->TrainConcept(As("acme").get(), train, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("concept"));
  train.set_concept("models/m/concepts/anna");
  train.mutable_settings()->set_steps(-5);
  status = api_.training->TrainConcept(As("acme").get(), train, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("settings.steps"));

  v1::GetJobRequest get;
  get.set_name("jobs/1");
  status = api_.training->GetJob(As("acme").get(), get, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("models/{model}/jobs/{job}"));
}

// Every size-like field has a bound, counted in the documented unit, and the
// error names the field; nothing is queued before every field is checked.
TEST_F(ApiServerTest, LimitsNameTheFieldInTheDocumentedUnit) {
  CreateModel("acme", "m");
  auto expect_invalid = [](const grpc::Status& status, const std::string& text) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << text;
    EXPECT_THAT(status.error_message(), HasSubstr(text));
  };
  v1::CreateConceptRequest concept_request;
  concept_request.set_parent("models/m");
  concept_request.set_concept_id("anna");
  concept_request.mutable_concept()->set_token("<anna>");
  v1::Concept created;
  // 100,000 caption templates.
  for (int i = 0; i < 100000; ++i) {
    concept_request.mutable_concept()->add_caption_templates("a photo of {}");
  }
  expect_invalid(api_.concepts->CreateConcept(As("acme").get(), concept_request, &created),
                 "concept.caption_templates: 100000 templates; the limit is 32");
  concept_request.mutable_concept()->clear_caption_templates();
  concept_request.mutable_concept()->add_caption_templates("{} " + std::string(298, 'x'));
  expect_invalid(api_.concepts->CreateConcept(As("acme").get(), concept_request, &created),
                 "concept.caption_templates[0]: 301 characters; the limit is 300");
  concept_request.mutable_concept()->clear_caption_templates();
  // 128 characters of 3 bytes each are within the display-name limit; 129 are not.
  std::string name;
  for (int i = 0; i < 129; ++i) name += "東";
  concept_request.mutable_concept()->set_display_name(name);
  expect_invalid(api_.concepts->CreateConcept(As("acme").get(), concept_request, &created),
                 "concept.display_name: 129 characters; the limit is 128");
  name.resize(128 * 3);
  concept_request.mutable_concept()->set_display_name(name);
  concept_request.set_request_id(std::string(129, 'r'));
  expect_invalid(api_.concepts->CreateConcept(As("acme").get(), concept_request, &created),
                 "request_id: 129 characters; the limit is 128");
  concept_request.set_request_id("r-1");
  grpc::Status status =
      api_.concepts->CreateConcept(As("acme").get(), concept_request, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // target_modules is checked before anything is queued.
  AddImages("acme", "m", "anna", 3);
  v1::TrainConceptRequest train;
  train.set_parent("models/m");
  train.set_concept("models/m/concepts/anna");
  train.mutable_settings()->add_target_modules("attn2.to_k");
  train.mutable_settings()->add_target_modules("conv_in");
  v1::Job job;
  expect_invalid(api_.training->TrainConcept(As("acme").get(), train, &job),
                 "settings.target_modules[1]: \"conv_in\"");
  v1::ListJobsRequest list_jobs;
  list_jobs.set_parent("models/m");
  v1::ListJobsResponse jobs;
  ASSERT_TRUE(api_.training->ListJobs(As("acme").get(), list_jobs, &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 0);
}

TEST_F(ApiServerTest, PageTokensContinueOnlyTheirOwnCall) {
  for (const char* id : {"m1", "m2", "m3"}) CreateModel("acme", id);
  v1::ListModelsRequest request;
  request.set_page_size(1);
  v1::ListModelsResponse page;
  ASSERT_TRUE(api_.models->ListModels(As("acme").get(), request, &page).ok());
  ASSERT_EQ(page.models_size(), 1);
  ASSERT_FALSE(page.next_page_token().empty());
  std::vector<std::string> seen = {page.models(0).name()};
  request.set_page_token(page.next_page_token());

  v1::ListModelsRequest other_size = request;
  other_size.set_page_size(2);
  v1::ListModelsResponse refused;
  grpc::Status status = api_.models->ListModels(As("acme").get(), other_size, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  status = api_.models->ListModels(As("globex").get(), request, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  while (!request.page_token().empty()) {
    page.Clear();
    ASSERT_TRUE(api_.models->ListModels(As("acme").get(), request, &page).ok());
    for (const auto& model : page.models()) seen.push_back(model.name());
    request.set_page_token(page.next_page_token());
  }
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre("models/m1", "models/m2", "models/m3"));
}

// Bytes that do not parse as the method's request type (gRPC itself would
// answer INTERNAL with no message) get INVALID_ARGUMENT saying so.
TEST_F(ApiServerTest, MalformedRequestBytesAreInvalidArgument) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                     grpc::InsecureChannelCredentials());
  auto call = [&](const std::string& method, const std::string& bytes) {
    grpc::internal::RpcMethod rpc(method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC,
                                  channel);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    return grpc::internal::BlockingUnaryCall(channel.get(), rpc, As("acme").get(), request,
                                             &response);
  };
  // A field-1 string whose length runs past the end; a name (field 1) that
  // is not valid UTF-8.
  grpc::Status status = call("/stamina.v1.ModelService/GetModel", "\x0a\x7f\x01");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("request: not a valid request message for /stamina.v1.ModelService/GetModel"));
  status = call("/stamina.v1.ModelService/GetModel", std::string("\x0a\x02\xff\xfe", 4));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  // A well-formed request still reaches its handler.
  v1::GetModelRequest get;
  get.set_name("models/none");
  status = call("/stamina.v1.ModelService/GetModel", get.SerializeAsString());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

class MetricsTest : public ApiServerTest {
 protected:
  bool WithMetrics() const override { return true; }
};

TEST_F(MetricsTest, CountRpcsAndShowQueueDepth) {
  CreateModel("acme", "m");
  CreateConcept("acme", "m", "anna");
  AddImages("acme", "m", "anna", 2);
  STAMINA_ASSERT_OK(Train("acme", "m", "anna").status());
  v1::GetModelRequest missing;
  missing.set_name("models/none");
  v1::Model model;
  ASSERT_FALSE(api_.models->GetModel(As("acme").get(), missing, &model).ok());

  ASSERT_GT(server_->metrics_port(), 0);
  // (Other fixtures run without metrics.)
  const std::string text = HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_THAT(text, HasSubstr("stamina_rpc_requests_total{code=\"OK\","
                              "method=\"/stamina.v1.ModelService/CreateModel\"} 1"));
  EXPECT_THAT(text, HasSubstr("stamina_rpc_requests_total{code=\"NOT_FOUND\","
                              "method=\"/stamina.v1.ModelService/GetModel\"} 1"));
  EXPECT_THAT(text, HasSubstr("stamina_rpc_duration_seconds_count{"
                              "method=\"/stamina.v1.TrainingService/TrainConcept\"} 1"));
  EXPECT_THAT(text, HasSubstr("stamina_job_queue_depth{state=\"queued\"} 1"));
  EXPECT_THAT(text, HasSubstr("stamina_job_queue_depth{state=\"running\"} 0"));
}

// An RGB PNG of `side` x `side` filled with `shade`.
std::string Png(int side, uint8_t shade) {
  images::PngSpec spec{.width = side, .height = side, .color_type = 2,
                       .bit_depth = 8};
  spec.rows.assign(static_cast<size_t>(side * side * 3), shade);
  return images::WriteTestPng(spec);
}

struct Upload {
  std::string filename;
  std::string bytes;
  std::string caption;
};

// Streams `images` to UploadImages in chunks of 7 bytes.
grpc::Status UploadAll(v1::ConceptService::Stub* stub, grpc::ClientContext* context,
                       const std::string& concept, const std::vector<Upload>& images,
                       bool skip_invalid, v1::UploadImagesResponse* response) {
  auto writer = stub->UploadImages(context, response);
  v1::UploadImagesRequest header;
  header.mutable_header()->set_parent(concept);
  header.mutable_header()->set_skip_invalid(skip_invalid);
  writer->Write(header);
  for (const Upload& image : images) {
    v1::UploadImagesRequest start;
    start.mutable_image_start()->set_filename(image.filename);
    start.mutable_image_start()->set_caption(image.caption);
    start.mutable_image_start()->set_size_bytes(static_cast<int64_t>(image.bytes.size()));
    if (!writer->Write(start)) break;
    for (size_t i = 0; i < image.bytes.size(); i += 7) {
      v1::UploadImagesRequest chunk;
      chunk.set_chunk(image.bytes.substr(i, 7));
      if (!writer->Write(chunk)) break;
    }
  }
  writer->WritesDone();
  return writer->Finish();
}

TEST_F(ApiServerTest, UploadVerifiesDeduplicatesAndIsAtomic) {
  CreateModel("acme", "m");
  CreateConcept("acme", "m", "anna");
  const std::string concept = "models/m/concepts/anna";
  images::JpegSpec jpeg{.width = 40, .height = 48, .color_space = 2 /*JCS_RGB*/,
                        .components = 3};
  jpeg.samples.assign(40 * 48 * 3, 90);
  v1::UploadImagesResponse response;
  grpc::Status status = UploadAll(
      api_.concepts.get(), As("acme").get(), concept,
      {{"a.png", Png(32, 10), "{} at home"},
       {"b.jpg", images::WriteTestJpeg(jpeg), ""},
       {"a-again.png", Png(32, 10), ""}},
      false, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(0).outcome(), v1::ImageUploadResult::OUTCOME_CREATED);
  EXPECT_EQ(response.results(0).image().format(), v1::IMAGE_FORMAT_PNG);
  EXPECT_EQ(response.results(0).image().caption(), "{} at home");
  EXPECT_EQ(response.results(1).image().format(), v1::IMAGE_FORMAT_JPEG);
  EXPECT_EQ(response.results(1).image().width(), 40);
  EXPECT_EQ(response.results(1).image().height(), 48);
  EXPECT_EQ(response.results(2).outcome(), v1::ImageUploadResult::OUTCOME_DUPLICATE);
  EXPECT_EQ(response.image_count(), 2);
  const std::string digest = response.results(0).image().sha256();
  EXPECT_EQ(response.results(0).image().name(), concept + "/images/" + digest);
  EXPECT_THAT(server_->blobs().Get(digest), IsOkAndHolds(Png(32, 10)));

  // One bad image rejects the whole request; nothing is stored.
  status = UploadAll(api_.concepts.get(), As("acme").get(), concept,
                     {{"c.png", Png(32, 200), ""}, {"bad.gif", "GIF89a....", ""}},
                     false, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("images[1] (\"bad.gif\")"));
  v1::ListImagesRequest list;
  list.set_parent(concept);
  v1::ListImagesResponse listed;
  ASSERT_TRUE(api_.concepts->ListImages(As("acme").get(), list, &listed).ok());
  EXPECT_EQ(listed.images_size(), 2);

  // With skip_invalid the good ones land and the bad ones are reported.
  v1::UploadImagesResponse partial;
  // A zero-byte file is one rejected image, not a failed stream; hostile
  // file names come back as safe display names.
  const std::string hostile = "../../etc/passwd\n\xE2\x80\xAEgnp.exe" + std::string(1, '\0');
  status = UploadAll(api_.concepts.get(), As("acme").get(), concept,
                     {{hostile, Png(32, 200), ""},
                      {"tiny.png", Png(16, 5), ""},
                      {"empty.png", "", ""},
                      {std::string(10000, 'x') + ".png", Png(32, 201), ""}},
                     true, &partial);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(partial.results_size(), 4);
  EXPECT_EQ(partial.results(0).outcome(), v1::ImageUploadResult::OUTCOME_CREATED);
  EXPECT_EQ(partial.results(0).filename(), "passwd__gnp.exe_");
  EXPECT_EQ(partial.results(0).image().filename(), "passwd__gnp.exe_");
  EXPECT_EQ(partial.results(0).image().original_filename(),
            "../../etc/passwd\\n\\xe2\\x80\\xaegnp.exe\\x00");
  EXPECT_EQ(partial.results(1).outcome(), v1::ImageUploadResult::OUTCOME_REJECTED);
  EXPECT_THAT(partial.results(1).rejection_reason(), HasSubstr("16"));
  EXPECT_EQ(partial.results(2).outcome(), v1::ImageUploadResult::OUTCOME_REJECTED);
  EXPECT_EQ(partial.results(2).filename(), "empty.png");
  EXPECT_EQ(partial.results(3).outcome(), v1::ImageUploadResult::OUTCOME_CREATED);
  EXPECT_EQ(partial.results(3).filename(), std::string(128, 'x'));
  EXPECT_EQ(partial.image_count(), 4);

  // Images freeze once training is queued.
  STAMINA_ASSERT_OK(Train("acme", "m", "anna").status());
  status = UploadAll(api_.concepts.get(), As("acme").get(), concept,
                     {{"d.png", Png(32, 77), ""}}, false, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// Storage deduplicates identical bytes across tenants; nothing a tenant sees
// may depend on that. acme uploads a photo and deletes it, once alone and
// once while globex holds the same bytes: acme's answers are the same, and
// so are globex's when it deletes its copy last.
TEST_F(ApiServerTest, CrossTenantDedupProbeSeesNothing) {
  const std::string photo = Png(32, 123);
  auto upload = [&](const std::string& tenant, const std::string& model) {
    v1::UploadImagesResponse response;
    grpc::Status status = UploadAll(api_.concepts.get(), As(tenant).get(),
                                    "models/" + model + "/concepts/anna",
                                    {{"p.png", photo, ""}}, false, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.results_size() == 1 ? response.results(0).outcome()
                                        : v1::ImageUploadResult::OUTCOME_UNSPECIFIED;
  };
  auto erase = [&](const std::string& tenant, const std::string& model) {
    v1::DeleteConceptRequest request;
    request.set_name("models/" + model + "/concepts/anna");
    v1::DeleteConceptResponse response;
    grpc::Status status =
        api_.concepts->DeleteConcept(As(tenant).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return std::make_pair(
        std::vector<std::string>(response.erased().deleted_blob_digests().begin(),
                                 response.erased().deleted_blob_digests().end()),
        response.erased().freed_bytes());
  };
  std::map<bool, std::pair<std::vector<std::string>, int64_t>> acme_saw, globex_saw;
  for (bool globex_holds_it : {false, true}) {
    const std::string model = globex_holds_it ? "shared" : "alone";
    CreateModel("acme", model);
    CreateConcept("acme", model, "anna");
    EXPECT_EQ(upload("acme", model), v1::ImageUploadResult::OUTCOME_CREATED);
    if (globex_holds_it) {
      CreateModel("globex", model);
      CreateConcept("globex", model, "anna");
      EXPECT_EQ(upload("globex", model), v1::ImageUploadResult::OUTCOME_CREATED);
    }
    acme_saw[globex_holds_it] = erase("acme", model);
    // acme looks again: its upload is new to it, whoever else holds it.
    CreateConcept("acme", model, "anna");
    EXPECT_EQ(upload("acme", model), v1::ImageUploadResult::OUTCOME_CREATED);
    acme_saw[globex_holds_it] = erase("acme", model);
    if (globex_holds_it) globex_saw[true] = erase("globex", model);
  }
  EXPECT_EQ(acme_saw[false], acme_saw[true]);
  ASSERT_EQ(acme_saw[false].first.size(), 1u);
  EXPECT_EQ(acme_saw[false].first[0], storage::Sha256Hex(photo));
  EXPECT_EQ(acme_saw[false].second, static_cast<int64_t>(photo.size()));
  EXPECT_EQ(globex_saw[true], acme_saw[false]);
  EXPECT_THAT(server_->blobs().Has(storage::Sha256Hex(photo)), IsOkAndHolds(false));
}

// AIP-155 as docs/api.md 1.5 promises, for each create: the same request_id
// with the same request returns the first result and creates nothing; with a
// different request it is ALREADY_EXISTS; and a fresh key never returns a
// resource some other request made.
TEST_F(ApiServerTest, IdempotencyKeysAsDocumented) {
  auto create_model = [&](const std::string& id, const std::string& display,
                          const std::string& key, v1::Model* model) {
    v1::CreateModelRequest request;
    request.mutable_model()->set_base_model("baseModels/stamina-tiny-v1");
    request.mutable_model()->set_display_name(display);
    request.set_model_id(id);
    request.set_request_id(key);
    return api_.models->CreateModel(As("acme").get(), request, model);
  };
  v1::Model first, again, other;
  ASSERT_TRUE(create_model("fam", "Family", "key-1", &first).ok());
  ASSERT_TRUE(create_model("fam", "Family", "key-1", &again).ok());
  EXPECT_EQ(again.name(), "models/fam");
  EXPECT_EQ(again.create_time().seconds(), first.create_time().seconds());
  grpc::Status status = create_model("fam2", "Family", "key-1", &other);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));
  EXPECT_EQ(create_model("fam", "Renamed", "key-1", &other).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  status = create_model("fam", "Family", "key-2", &other);  // a fresh key, a taken id
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("models/fam already exists"));
  // Keys are per tenant: globex may use the same one.
  v1::CreateModelRequest theirs;
  theirs.mutable_model()->set_base_model("baseModels/stamina-tiny-v1");
  theirs.set_model_id("fam2");
  theirs.set_request_id("key-1");
  EXPECT_TRUE(api_.models->CreateModel(As("globex").get(), theirs, &other).ok());
  v1::ListModelsResponse listed;
  ASSERT_TRUE(api_.models->ListModels(As("acme").get(), {}, &listed).ok());
  EXPECT_EQ(listed.models_size(), 1);

  auto create_concept = [&](const std::string& id, const std::string& token,
                            const std::string& key, v1::Concept* concept_proto) {
    v1::CreateConceptRequest request;
    request.set_parent("models/fam");
    request.set_concept_id(id);
    request.mutable_concept()->set_token(token);
    request.set_request_id(key);
    return api_.concepts->CreateConcept(As("acme").get(), request, concept_proto);
  };
  v1::Concept anna, anna_again, bob;
  ASSERT_TRUE(create_concept("anna", "<anna>", "c-1", &anna).ok());
  ASSERT_TRUE(create_concept("anna", "<anna>", "c-1", &anna_again).ok());
  EXPECT_EQ(anna_again.name(), anna.name());
  EXPECT_EQ(create_concept("bob", "<bob>", "c-1", &bob).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(create_concept("anna", "<anna>", "c-2", &bob).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  v1::ListConceptsRequest list_concepts;
  list_concepts.set_parent("models/fam");
  v1::ListConceptsResponse concepts;
  ASSERT_TRUE(api_.concepts->ListConcepts(As("acme").get(), list_concepts, &concepts).ok());
  EXPECT_EQ(concepts.concepts_size(), 1);

  AddImages("acme", "fam", "anna", 2);
  STAMINA_ASSERT_OK_AND_ASSIGN(v1::Job job, Train("acme", "fam", "anna", "t-1"));
  STAMINA_ASSERT_OK_AND_ASSIGN(v1::Job job_again, Train("acme", "fam", "anna", "t-1"));
  EXPECT_EQ(job_again.name(), job.name());
  v1::TrainConceptRequest different;
  different.set_parent("models/fam");
  different.set_concept("models/fam/concepts/anna");
  different.set_request_id("t-1");
  different.mutable_settings()->set_steps(11);
  v1::Job refused;
  EXPECT_EQ(api_.training->TrainConcept(As("acme").get(), different, &refused).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(ApiServerTest, UploadStreamShapeErrors) {
  CreateModel("acme", "m");
  CreateConcept("acme", "m", "anna");
  v1::UploadImagesResponse response;
  {  // chunk before image_start
    auto context = As("acme");
    auto writer = api_.concepts->UploadImages(context.get(), &response);
    v1::UploadImagesRequest header;
    header.mutable_header()->set_parent("models/m/concepts/anna");
    writer->Write(header);
    v1::UploadImagesRequest chunk;
    chunk.set_chunk("x");
    writer->Write(chunk);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("image_start"));
  }
  {  // no header at all
    auto context = As("acme");
    auto writer = api_.concepts->UploadImages(context.get(), &response);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {  // fewer bytes than announced
    auto context = As("acme");
    auto writer = api_.concepts->UploadImages(context.get(), &response);
    v1::UploadImagesRequest header;
    header.mutable_header()->set_parent("models/m/concepts/anna");
    writer->Write(header);
    v1::UploadImagesRequest start;
    start.mutable_image_start()->set_filename("short.png");
    start.mutable_image_start()->set_size_bytes(100);
    writer->Write(start);
    v1::UploadImagesRequest chunk;
    chunk.set_chunk("abc");
    writer->Write(chunk);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("images[0] (\"short.png\")"));
  }
  // Another tenant's concept is NOT_FOUND.
  grpc::Status status = UploadAll(api_.concepts.get(), As("globex").get(),
                                  "models/m/concepts/anna", {{"a.png", Png(32, 1), ""}},
                                  false, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ApiServerTest, ShutdownDrainsHealth) {
  server_->Shutdown(absl::Milliseconds(100));
  server_->Shutdown(absl::Milliseconds(100));  // idempotent
  auto health = grpc::health::v1::Health::NewStub(api_.channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_FALSE(health->Check(&context, {}, &response).ok());
}

}  // namespace
}  // namespace stamina
