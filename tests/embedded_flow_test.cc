// Integration: the embedded staminad (front end + in-process worker slots +
// in-process sampler) over loopback: port 0, the real gRPC stack, a real
// SQLite file and blob directory under TEST_TMPDIR, and real training and
// sampling on the random "stamina-test-tiny" model saved under TEST_TMPDIR.
// Waiting is event-driven: WatchJob streams until a job ends.

#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "app/embedded_service.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "images/test_images.h"
#include "stamina/v1/concept_service.grpc.pb.h"
#include "stamina/v1/model_service.grpc.pb.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"
#include "tests/loopback.h"
#include "worker/testing/test_models.h"

namespace stamina {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class EmbeddedFlowTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto base = worker::SaveTestBaseModel("embedded_base");
    ASSERT_THAT(base.status(), IsOk());
  }

  void SetUp() override {
    data_dir_ =
        FreshTestDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    Start(/*start_worker=*/true);
    ASSERT_THAT(service_->server().tenants().CreateTenant("acme", ""), IsOk());
    auto key = service_->server().tenants().CreateApiKey("acme");
    ASSERT_THAT(key, IsOk());
    key_ = key->secret;
  }

  // (Re)starts the service on the same data directory.
  void Start(bool start_worker, bool metrics = false) {
    service_.reset();
    server::ServiceLimits limits;
    limits.min_images_per_concept = 2;
    limits.concurrent_calls = concurrent_calls_;
    server::TrainingDefaults training;
    training.steps = 4;
    training.batch_size = 2;
    training.lora_rank = 2;
    training.learning_rate = 1e-3f;
    training.stamina_mask_rank = 2;
    auto created = app::EmbeddedService::Create(
        {.api = {.data_dir = data_dir_,
                 .limits = limits,
                 .training = training,
                 .watch_poll_interval = watch_poll_interval_,
                 // civetweb takes ~2 s to stop: only the metrics test starts it.
                 .metrics_address = metrics ? "127.0.0.1:0" : "",
                 .sample_defaults = {.steps = 3, .guidance_scale = 3},
                 .lease_check_interval = lease_check_interval_,
                 .blob_sweep_interval = blob_sweep_interval_,
                 .blob_sweep_min_age = absl::ZeroDuration()},
         .base_model = {.id = worker::kTestBaseModel, .dir = TestPath("embedded_base")},
         .worker_slots = 1,
         .start_worker = start_worker,
         .worker_poll_interval = absl::Milliseconds(5),
         .min_heartbeat_interval = absl::Milliseconds(5),
         .drift_budget = drift_budget_,
         .sampler_memory_bytes = sampler_memory_bytes_});
    ASSERT_THAT(created.status(), IsOk());
    service_ = std::move(*created);
    api_ = ConnectApi(service_->server().port());
  }

  server::CallLimits::Options concurrent_calls_;
  int64_t sampler_memory_bytes_ = int64_t{2} << 30;
  double drift_budget_ = 0.2;
  absl::Duration watch_poll_interval_ = absl::Milliseconds(5);
  absl::Duration lease_check_interval_ = absl::Seconds(5);
  absl::Duration blob_sweep_interval_ = absl::Hours(1);

  std::unique_ptr<grpc::ClientContext> Call() { return WithApiKey(key_); }

  static void ExpectOk(const grpc::Status& status) {
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  }

  void CreateModel(const std::string& id) {
    v1::CreateModelRequest request;
    request.set_model_id(id);
    request.mutable_model()->set_base_model(
        absl::StrCat("baseModels/", worker::kTestBaseModel));
    v1::Model model;
    ExpectOk(api_.models->CreateModel(Call().get(), request, &model));
  }

  // A concept with a caption template and `identity`'s renders uploaded.
  void CreateConcept(const std::string& model, const std::string& id, int identity) {
    v1::CreateConceptRequest request;
    request.set_parent("models/" + model);
    request.set_concept_id(id);
    request.mutable_concept()->set_token("<" + id + ">");
    request.mutable_concept()->add_caption_templates("a face of {}");
    v1::Concept created;
    ExpectOk(api_.concepts->CreateConcept(Call().get(), request, &created));

    auto context = Call();
    v1::UploadImagesResponse response;
    auto writer = api_.concepts->UploadImages(context.get(), &response);
    v1::UploadImagesRequest message;
    message.mutable_header()->set_parent(absl::StrCat("models/", model, "/concepts/", id));
    ASSERT_TRUE(writer->Write(message));
    int i = 0;
    for (const std::string& png : worker::IdentityPngs(identity, 3)) {
      message.Clear();
      message.mutable_image_start()->set_filename(absl::StrCat(id, i++, ".png"));
      message.mutable_image_start()->set_size_bytes(static_cast<int64_t>(png.size()));
      ASSERT_TRUE(writer->Write(message));
      message.Clear();
      message.set_chunk(png);
      ASSERT_TRUE(writer->Write(message));
    }
    ASSERT_TRUE(writer->WritesDone());
    ExpectOk(writer->Finish());
    EXPECT_EQ(response.image_count(), 3);
  }

  v1::Job Train(const std::string& model, const std::string& concept_id, int steps = 0) {
    v1::TrainConceptRequest request;
    request.set_parent("models/" + model);
    request.set_concept(absl::StrCat("models/", model, "/concepts/", concept_id));
    request.mutable_settings()->set_steps(steps);
    v1::Job job;
    ExpectOk(api_.training->TrainConcept(Call().get(), request, &job));
    return job;
  }

  // Streams the job until it ends (or `until` says stop); returns every
  // update.
  std::vector<v1::Job> Watch(const std::string& name,
                             const std::function<bool(const v1::Job&)>& until = nullptr) {
    v1::WatchJobRequest request;
    request.set_name(name);
    request.set_min_interval_ms(1);
    auto context = Call();
    auto reader = api_.training->WatchJob(context.get(), request);
    std::vector<v1::Job> updates;
    v1::WatchJobResponse response;
    while (reader->Read(&response)) {
      updates.push_back(response.job());
      if (until && until(response.job())) {
        context->TryCancel();
        break;
      }
    }
    reader->Finish().ok();
    return updates;
  }

  v1::Job GetJob(const std::string& name) {
    v1::GetJobRequest request;
    request.set_name(name);
    v1::Job job;
    ExpectOk(api_.training->GetJob(Call().get(), request, &job));
    return job;
  }

  struct Sampled {
    grpc::Status status;
    std::vector<v1::GeneratedImage> images;
    std::vector<v1::SamplePhase> phases;
  };

  Sampled Sample(const std::string& model, const std::string& prompt,
                 const std::string& version = "", int count = 1) {
    v1::SampleRequest request;
    request.set_model("models/" + model);
    request.set_version(version);
    request.set_prompt(prompt);
    request.set_image_count(count);
    request.set_seed(42);
    auto context = Call();
    auto reader = api_.sampler->Sample(context.get(), request);
    Sampled out;
    v1::SampleResponse response;
    while (reader->Read(&response)) {
      if (response.has_image()) out.images.push_back(response.image());
      if (response.has_progress() &&
          (out.phases.empty() || out.phases.back() != response.progress().phase())) {
        out.phases.push_back(response.progress().phase());
      }
    }
    out.status = reader->Finish();
    return out;
  }

  // Uploads one file as its own request.
  grpc::Status UploadOne(const std::string& concept_name, const std::string& filename,
                         const std::string& bytes) {
    auto context = Call();
    v1::UploadImagesResponse response;
    auto writer = api_.concepts->UploadImages(context.get(), &response);
    v1::UploadImagesRequest message;
    message.mutable_header()->set_parent(concept_name);
    writer->Write(message);
    message.Clear();
    message.mutable_image_start()->set_filename(filename);
    message.mutable_image_start()->set_size_bytes(static_cast<int64_t>(bytes.size()));
    writer->Write(message);
    if (!bytes.empty()) {
      message.Clear();
      message.set_chunk(bytes);
      writer->Write(message);
    }
    writer->WritesDone();
    return writer->Finish();
  }

  int ImageCount(const std::string& concept_name) {
    v1::ListImagesRequest request;
    request.set_parent(concept_name);
    v1::ListImagesResponse response;
    ExpectOk(api_.concepts->ListImages(Call().get(), request, &response));
    return response.images_size();
  }

  int JobCount(const std::string& model) {
    v1::ListJobsRequest request;
    request.set_parent("models/" + model);
    v1::ListJobsResponse response;
    ExpectOk(api_.training->ListJobs(Call().get(), request, &response));
    return response.jobs_size();
  }

  int VersionCount(const std::string& model) {
    v1::ListVersionsRequest request;
    request.set_parent("models/" + model);
    v1::ListVersionsResponse response;
    ExpectOk(api_.models->ListVersions(Call().get(), request, &response));
    return response.versions_size();
  }

  std::string data_dir_;
  std::string key_;
  std::unique_ptr<app::EmbeddedService> service_;
  ApiStubs api_;
};

TEST_F(EmbeddedFlowTest, TwoConceptsTrainInOrderAndSampleTogether) {
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  CreateConcept("pets", "mill", 1);
  const v1::Job anna = Train("pets", "anna");
  const v1::Job mill = Train("pets", "mill");

  const std::vector<v1::Job> updates = Watch(mill.name());
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.back().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(updates.back().result_version(), "models/pets/versions/2");
  EXPECT_EQ(updates.back().parent_version(), "models/pets/versions/1");
  bool saw_training_progress = false;
  for (const v1::Job& update : updates) {
    if (update.progress().phase() == v1::JOB_PHASE_TRAINING &&
        update.progress().step() > 0) {
      saw_training_progress = true;
      EXPECT_EQ(update.progress().total_steps(), 4);
    }
  }
  EXPECT_TRUE(saw_training_progress);
  EXPECT_EQ(GetJob(anna.name()).state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(GetJob(anna.name()).result_version(), "models/pets/versions/1");
  EXPECT_EQ(VersionCount("pets"), 2);

  v1::GetLineageRequest lineage_request;
  lineage_request.set_name("models/pets");
  v1::Lineage lineage;
  ExpectOk(api_.models->GetLineage(Call().get(), lineage_request, &lineage));
  ASSERT_EQ(lineage.entries_size(), 2);
  EXPECT_EQ(lineage.entries(0).concept(), "models/pets/concepts/anna");
  EXPECT_EQ(lineage.entries(1).concept(), "models/pets/concepts/mill");

  // Each concept alone, then both in one prompt, from the head.
  Sampled one = Sample("pets", "a face of <anna>", "", 2);
  ExpectOk(one.status);
  ASSERT_EQ(one.images.size(), 2u);
  EXPECT_EQ(one.images[0].version(), "models/pets/versions/2");
  EXPECT_EQ(one.images[1].seed(), 43);
  EXPECT_EQ(one.images[0].png().substr(1, 3), "PNG");
  // LOADING first unless the background warm-up of version 2 came first.
  ASSERT_GE(one.phases.size(), 2u);
  EXPECT_THAT(std::vector<v1::SamplePhase>(one.phases.end() - 2, one.phases.end()),
              ElementsAre(v1::SAMPLE_PHASE_DENOISING, v1::SAMPLE_PHASE_DECODING));
  Sampled both = Sample("pets", "<anna> in front of <MILL>");
  ExpectOk(both.status);
  ASSERT_EQ(both.images.size(), 1u);
  EXPECT_THAT(both.phases, ElementsAre(v1::SAMPLE_PHASE_DENOISING,  // cached
                                       v1::SAMPLE_PHASE_DECODING));

  // Version 1 knows only <anna>.
  ExpectOk(Sample("pets", "<anna>", "models/pets/versions/1").status);
  Sampled unknown = Sample("pets", "<anna> and <mill>", "models/pets/versions/1");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(unknown.status.error_message(),
              HasSubstr("prompt: unknown concept token <mill>"));
  EXPECT_EQ(Sample("ghost", "<anna>").status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Sample("pets", "x", "models/pets/versions/9").status.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Issue 6: a committed version is built (folded and warmed up) by the
// sampler in the background, so its first Sample finds it cached.
TEST_F(EmbeddedFlowTest, ANewVersionIsWarmBeforeItsFirstSample) {
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  EXPECT_EQ(service_->server().sampler()->Stats().entries, 0);
  EXPECT_EQ(Watch(Train("pets", "anna").name()).back().state(), v1::JOB_STATE_SUCCEEDED);
  ASSERT_TRUE(service_->server().warmer()->AwaitFinished(1, absl::Seconds(60)));
  rpc::SamplerStats stats = service_->server().sampler()->Stats();
  EXPECT_EQ(stats.entries, 1);  // no Sample call yet
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.hits, 0);

  Sampled first = Sample("pets", "a face of <anna>");
  ExpectOk(first.status);
  EXPECT_THAT(first.phases, ElementsAre(v1::SAMPLE_PHASE_DENOISING,  // no LOADING
                                        v1::SAMPLE_PHASE_DECODING));
  stats = service_->server().sampler()->Stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 1);
}

// Issue 18: 1024x1024 x 16 on a 32x32 model (which once grew staminad to
// 8 GB and ran on after the client left) is refused at once, naming the
// field; a heavy request the client cancels stops within a step, freeing
// the sampler for the next caller.
TEST_F(EmbeddedFlowTest, OversizedSampleIsRefusedAndACancelledOneStops) {
  CreateModel("pets");
  v1::SampleRequest request;
  request.set_model("models/pets");
  request.set_prompt("a face");
  request.set_image_count(16);
  request.set_width(1024);
  request.set_height(1024);
  {
    auto context = Call();
    auto reader = api_.sampler->Sample(context.get(), request);
    v1::SampleResponse response;
    while (reader->Read(&response)) {
    }
    const grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("width: 1024"));
  }

  // 16 images x 200 steps at twice the native size: minutes of work.
  request.set_width(64);
  request.set_height(64);
  request.set_steps(200);
  auto context = Call();
  auto reader = api_.sampler->Sample(context.get(), request);
  v1::SampleResponse response;
  while (reader->Read(&response)) {
    if (response.has_progress() &&
        response.progress().phase() == v1::SAMPLE_PHASE_DENOISING) {
      break;
    }
  }
  EXPECT_EQ(service_->server().sampler()->Stats().running, 1);
  context->TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (service_->server().sampler()->Stats().running > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // waiting for the server to notice
  }
  EXPECT_EQ(service_->server().sampler()->Stats().running, 0);
  EXPECT_EQ(service_->server().sampler()->Stats().working_bytes, 0);
  Sampled next = Sample("pets", "a face");
  ExpectOk(next.status);
  EXPECT_EQ(next.phases.front(), v1::SAMPLE_PHASE_DENOISING);  // not queued
}

// A field of /proc/self/status in bytes ("VmHWM:   1234 kB"); -1 if absent.
int64_t ProcessStatusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
  }
  return -1;
}

// Issue 19: the all-in-one process reports the devices of its in-process
// worker and sampler (the CPU here, in fp32).
TEST_F(EmbeddedFlowTest, CapabilitiesNameTheTrainingAndSamplingDevices) {
  Start(/*start_worker=*/false);
  v1::Capabilities capabilities;
  ExpectOk(api_.sampler->GetCapabilities(Call().get(), {}, &capabilities));
  ASSERT_EQ(capabilities.devices_size(), 2);
  for (const v1::ComputeDevice& device : capabilities.devices()) {
    EXPECT_EQ(device.device(), "cpu");
    EXPECT_EQ(device.compute_dtype(), "fp32");
    EXPECT_EQ(device.processes(), 1);
    EXPECT_THAT(device.description(), ::testing::HasSubstr("cores"));
  }
  EXPECT_EQ(capabilities.devices(0).role(), "sampling");
  EXPECT_EQ(capabilities.devices(1).role(), "training");
}

// Issue 18: the largest Sample the service admits under a small memory
// budget (the side GetCapabilities reports, the most images) is served, and
// the process's peak RSS grows by less than the budget while it runs; one
// size step more is refused naming the budget. The server runs in this
// process, so /proc/self is staminad's.
TEST_F(EmbeddedFlowTest, LargestAdmittedSampleStaysInsideTheMemoryBudget) {
  constexpr int64_t kBudget = int64_t{40} << 20;
  sampler_memory_bytes_ = kBudget;
  Start(/*start_worker=*/false);
  CreateModel("pets");
  ExpectOk(Sample("pets", "a face").status);  // builds and caches the model

  v1::Capabilities capabilities;
  ExpectOk(api_.sampler->GetCapabilities(Call().get(), {}, &capabilities));
  ASSERT_EQ(capabilities.base_models_size(), 1);
  const int side = capabilities.base_models(0).max_sample_side();
  ASSERT_GT(side, 0);
  ASSERT_LT(side, 64) << "the budget should bind below twice the native 32";

  v1::SampleRequest request;
  request.set_model("models/pets");
  request.set_prompt("a face");
  request.set_image_count(16);
  request.set_width(side);
  request.set_height(side);
  request.set_guidance_scale(3);
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";  // resets VmHWM to the current RSS (Linux 4.0+)
  }
  const int64_t before = ProcessStatusBytes("VmRSS");
  int images = 0;
  {
    auto context = Call();
    auto reader = api_.sampler->Sample(context.get(), request);
    v1::SampleResponse response;
    while (reader->Read(&response)) images += response.has_image() ? 1 : 0;
    ExpectOk(reader->Finish());
  }
  const int64_t peak_growth = ProcessStatusBytes("VmHWM") - before;
  ASSERT_GE(before, 0) << "no /proc/self/status";
  EXPECT_EQ(images, 16);
  EXPECT_LT(peak_growth, kBudget) << "peak RSS grew by " << peak_growth / 1048576.0 << " MiB";
  std::printf("%dx%d x 16 images: peak RSS growth %.1f MiB, budget %.1f MiB\n", side, side,
              peak_growth / 1048576.0, kBudget / 1048576.0);

  request.set_width(side + 8);
  request.set_height(side + 8);
  auto context = Call();
  auto reader = api_.sampler->Sample(context.get(), request);
  v1::SampleResponse response;
  while (reader->Read(&response)) {
  }
  const grpc::Status refused = reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("budget is 40 MiB"));
}

// WatchJob streams over the tenant's cap are refused at once and served
// again when one ends; a watcher wakes on the job's changes, not on a poll
// (the poll interval here is an hour).
TEST_F(EmbeddedFlowTest, WatchStreamsAreCappedAndWakeOnChanges) {
  concurrent_calls_.watch = {.per_tenant = 2, .total = 10};
  watch_poll_interval_ = absl::Hours(1);
  Start(/*start_worker=*/false);
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  const v1::Job job = Train("pets", "anna");
  v1::WatchJobRequest request;
  request.set_name(job.name());
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchJobResponse>>> readers;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(Call());
    readers.push_back(api_.training->WatchJob(contexts.back().get(), request));
    v1::WatchJobResponse first;
    ASSERT_TRUE(readers.back()->Read(&first));
    EXPECT_EQ(first.job().state(), v1::JOB_STATE_QUEUED);
  }
  {
    auto context = Call();
    auto reader = api_.training->WatchJob(context.get(), request);
    v1::WatchJobResponse response;
    EXPECT_FALSE(reader->Read(&response));
    const grpc::Status refused = reader->Finish();
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(refused.error_message(), HasSubstr("WatchJob calls: this tenant has 2"));
  }

  // Cancelling the job is a change: both watchers see it and end.
  v1::CancelJobRequest cancel;
  cancel.set_name(job.name());
  v1::Job cancelled;
  ExpectOk(api_.training->CancelJob(Call().get(), cancel, &cancelled));
  for (auto& reader : readers) {
    v1::WatchJobResponse response, last;
    while (reader->Read(&response)) last = response;
    EXPECT_EQ(last.job().state(), v1::JOB_STATE_CANCELLED);
    ExpectOk(reader->Finish());
  }
  // Their slots are free again.
  const std::vector<v1::Job> again = Watch(job.name());
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.back().state(), v1::JOB_STATE_CANCELLED);
}

// Issue 18: with no worker polling, a job whose worker vanished goes back to
// the queue when its lease expires, and orphaned blobs are swept.
TEST_F(EmbeddedFlowTest, UpkeepRequeuesExpiredLeasesAndSweepsOrphans) {
  lease_check_interval_ = absl::Milliseconds(10);
  blob_sweep_interval_ = absl::Milliseconds(10);
  Start(/*start_worker=*/false);
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  const v1::Job job = Train("pets", "anna");
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::optional<storage::JobLease> lease,
      service_->server().jobs().Claim("vanished-worker", absl::Milliseconds(50)));
  ASSERT_TRUE(lease.has_value());
  const std::vector<v1::Job> updates = Watch(job.name(), [](const v1::Job& j) {
    return j.state() == v1::JOB_STATE_QUEUED && j.attempt() > 0;
  });
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.back().state(), v1::JOB_STATE_QUEUED);
  // Upkeep counts a requeue after the store reported it (and woke watchers).
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (service_->server().upkeep().counts().leases_requeued < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GE(service_->server().upkeep().counts().leases_requeued, 1);

  STAMINA_ASSERT_OK_AND_ASSIGN(std::string orphan,
                               service_->server().blobs().Put("nobody's bytes"));
  // The sweep deletes the file, then counts it: wait for both.
  while ((*service_->server().blobs().Has(orphan) ||
          service_->server().upkeep().counts().blobs_deleted < 1) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));  // waiting for the next sweep
  }
  EXPECT_FALSE(*service_->server().blobs().Has(orphan));
  EXPECT_GE(service_->server().upkeep().counts().blobs_deleted, 1);
}

TEST_F(EmbeddedFlowTest, CancelWhileQueuedNeverTrains) {
  Start(/*start_worker=*/false);
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  CreateConcept("pets", "mill", 1);
  const v1::Job anna = Train("pets", "anna");
  const v1::Job mill = Train("pets", "mill");
  v1::CancelJobRequest cancel;
  cancel.set_name(anna.name());
  v1::Job cancelled;
  ExpectOk(api_.training->CancelJob(Call().get(), cancel, &cancelled));
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);

  service_->worker()->Start();
  EXPECT_EQ(Watch(mill.name()).back().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(GetJob(anna.name()).state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(GetJob(mill.name()).result_version(), "models/pets/versions/1");
  EXPECT_EQ(VersionCount("pets"), 1);
}

TEST_F(EmbeddedFlowTest, CancelWhileTrainingStopsAndCommitsNothing) {
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  // Far more steps than the test waits for: it is cancelled mid-training.
  const v1::Job anna = Train("pets", "anna", 20000);
  Watch(anna.name(), [](const v1::Job& job) {
    return job.progress().phase() == v1::JOB_PHASE_TRAINING && job.progress().step() >= 2;
  });
  v1::CancelJobRequest cancel;
  cancel.set_name(anna.name());
  v1::Job requested;
  ExpectOk(api_.training->CancelJob(Call().get(), cancel, &requested));
  EXPECT_TRUE(requested.cancel_requested());
  const v1::Job ended = Watch(anna.name()).back();
  EXPECT_EQ(ended.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_LT(ended.progress().step(), 20000);
  EXPECT_EQ(VersionCount("pets"), 0);
  // The concept is a draft again and trains normally.
  EXPECT_EQ(Watch(Train("pets", "anna").name()).back().state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(EmbeddedFlowTest, RestartedServiceRunsTheQueuedJobs) {
  Start(/*start_worker=*/false);
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  CreateConcept("pets", "mill", 1);
  const v1::Job anna = Train("pets", "anna");
  const v1::Job mill = Train("pets", "mill");
  service_->Shutdown(absl::Seconds(1));
  Start(/*start_worker=*/true);  // same data directory, a fresh process
  EXPECT_EQ(Watch(mill.name()).back().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(GetJob(anna.name()).state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(VersionCount("pets"), 2);
  ExpectOk(Sample("pets", "<anna> and <mill>").status);
}

TEST_F(EmbeddedFlowTest, RunningJobIsHandedBackAtShutdownAndFinishesAfterRestart) {
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  const v1::Job anna = Train("pets", "anna", 150);
  Watch(anna.name(), [](const v1::Job& job) {
    return job.progress().phase() == v1::JOB_PHASE_TRAINING && job.progress().step() >= 2;
  });
  service_->Shutdown(absl::Seconds(1));  // the worker stops first
  Start(/*start_worker=*/false);
  const v1::Job queued = GetJob(anna.name());
  EXPECT_EQ(queued.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(VersionCount("pets"), 0);
  service_->worker()->Start();
  const v1::Job done = Watch(anna.name()).back();
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.attempt(), 2);
  EXPECT_EQ(VersionCount("pets"), 1);
}

// Issue 6's bad inputs, each with the status docs/api.md documents, and none
// leaves anything behind (no image, job, version or concept state change).
TEST_F(EmbeddedFlowTest, BadInputsGetTheDocumentedStatusAndLeaveNoPartialState) {
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);  // 3 images
  const std::string anna = "models/pets/concepts/anna";
  {  // a fresh concept with no images, for the uploads
    v1::CreateConceptRequest request;
    request.set_parent("models/pets");
    request.set_concept_id("mill");
    request.mutable_concept()->set_token("<mill>");
    v1::Concept created;
    ExpectOk(api_.concepts->CreateConcept(Call().get(), request, &created));
  }
  const std::string mill = "models/pets/concepts/mill";
  images::JpegSpec spec{.width = 40, .height = 40, .color_space = 2 /*JCS_RGB*/,
                        .components = 3};
  spec.samples.assign(40 * 40 * 3, 120);
  std::string corrupt_jpeg = images::WriteTestJpeg(spec);
  corrupt_jpeg.resize(corrupt_jpeg.size() / 2);  // the scan data cut short
  for (size_t i = 200; i < corrupt_jpeg.size(); i += 7) corrupt_jpeg[i] = '\xff';

  struct BadUpload {
    const char* what;
    std::string filename;
    std::string bytes;
  };
  const std::vector<BadUpload> uploads = {
      {"corrupt JPEG", "corrupt.jpg", corrupt_jpeg},
      {"PNG header claiming 20000x20000", "huge.png",
       images::WritePngHeaderOnly(20000, 20000)},
      {"empty file", "empty.png", ""},
      {"text named .png", "notes.png", "these are my holiday notes, not a picture\n"},
  };
  for (const BadUpload& upload : uploads) {
    SCOPED_TRACE(upload.what);
    const grpc::Status status = UploadOne(mill, upload.filename, upload.bytes);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(upload.filename));
    EXPECT_EQ(ImageCount(mill), 0);
  }

  {  // an unknown model
    v1::TrainConceptRequest request;
    request.set_parent("models/nope");
    request.set_concept("models/nope/concepts/anna");
    v1::Job job;
    EXPECT_EQ(api_.training->TrainConcept(Call().get(), request, &job).error_code(),
              grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(Sample("nope", "a face").status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(UploadOne("models/nope/concepts/anna", "a.png", worker::IdentityPngs(0, 1)[0])
                  .error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {  // 10^6 training steps
    v1::TrainConceptRequest request;
    request.set_parent("models/pets");
    request.set_concept(anna);
    request.mutable_settings()->set_steps(1'000'000);
    v1::Job job;
    const grpc::Status status = api_.training->TrainConcept(Call().get(), request, &job);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("settings.steps: 1000000 is out of range"));
  }
  // A prompt over the limit, a negative count, an unknown concept token.
  const Sampled long_prompt = Sample("pets", std::string(1001, 'a'));
  EXPECT_EQ(long_prompt.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(long_prompt.status.error_message(), HasSubstr("prompt"));
  const Sampled negative = Sample("pets", "a face", "", -1);
  EXPECT_EQ(negative.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(negative.status.error_message(), HasSubstr("image_count"));
  const Sampled unknown_token = Sample("pets", "a photo of <anna>");
  EXPECT_EQ(unknown_token.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(unknown_token.status.error_message(), HasSubstr("<anna>"));
  for (const Sampled* s : {&long_prompt, &negative, &unknown_token}) {
    EXPECT_TRUE(s->images.empty());
  }

  // Nothing was left behind.
  EXPECT_EQ(ImageCount(anna), 3);
  EXPECT_EQ(ImageCount(mill), 0);
  EXPECT_EQ(JobCount("pets"), 0);
  EXPECT_EQ(VersionCount("pets"), 0);
  v1::GetConceptRequest get;
  get.set_name(anna);
  v1::Concept concept_record;
  ExpectOk(api_.concepts->GetConcept(Call().get(), get, &concept_record));
  EXPECT_EQ(concept_record.state(), v1::CONCEPT_STATE_DRAFT);
  v1::ListModelsRequest list;
  v1::ListModelsResponse models;
  ExpectOk(api_.models->ListModels(Call().get(), list, &models));
  EXPECT_EQ(models.models_size(), 1);
}

// Issue 17: the forgetting metric from the worker through the registry to
// GetLineage and /metrics. The 4-step jobs here are too short for the default
// budget (20% of training), so the test grants more.
TEST_F(EmbeddedFlowTest, TheLineageAndMetricsReportHowFarEarlierConceptsDrifted) {
  drift_budget_ = 100;
  Start(/*start_worker=*/true, /*metrics=*/true);
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  CreateConcept("pets", "mill", 1);
  EXPECT_EQ(Watch(Train("pets", "anna").name()).back().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(Watch(Train("pets", "mill").name()).back().state(), v1::JOB_STATE_SUCCEEDED);
  v1::GetLineageRequest request;
  request.set_name("models/pets");
  v1::Lineage lineage;
  ExpectOk(api_.models->GetLineage(Call().get(), request, &lineage));
  ASSERT_EQ(lineage.entries_size(), 2);
  EXPECT_EQ(lineage.entries(0).metrics().concept_drift_size(), 0);
  ASSERT_EQ(lineage.entries(1).metrics().concept_drift_size(), 1);
  const v1::ConceptDrift& drift = lineage.entries(1).metrics().concept_drift(0);
  EXPECT_EQ(drift.concept(), "models/pets/concepts/anna");
  EXPECT_EQ(drift.learned_version(), "models/pets/versions/1");
  EXPECT_GT(drift.drift(), 0.0);
  EXPECT_LT(drift.drift(), 0.15);
  EXPECT_GT(lineage.entries(1).metrics().drift_seconds(), 0.0);
  EXPECT_LT(lineage.entries(1).metrics().drift_seconds(),
            lineage.entries(1).metrics().training_seconds());
  // The metrics are recorded by the commit's callback, which may run just
  // after WatchJob saw SUCCEEDED: wait for it.
  std::string text;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30); absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(10))) {
    text = HttpGet(service_->server().metrics_port(), "/metrics");
    if (absl::StrContains(text, "stamina_concept_drift_measurements_count 1")) break;
  }
  EXPECT_THAT(text, HasSubstr("stamina_concept_drift{concept=\"anna\",model=\"pets\","
                              "tenant=\"acme\"}"));
  EXPECT_THAT(text, HasSubstr("stamina_concept_drift_measurements_count 1"));
}

TEST_F(EmbeddedFlowTest, MetricsShowTheSamplerCacheAndSampleLatency) {
  Start(/*start_worker=*/true, /*metrics=*/true);
  CreateModel("pets");
  CreateConcept("pets", "anna", 0);
  EXPECT_EQ(Watch(Train("pets", "anna").name()).back().state(), v1::JOB_STATE_SUCCEEDED);
  ASSERT_TRUE(service_->server().warmer()->AwaitFinished(1, absl::Seconds(60)));
  ExpectOk(Sample("pets", "a face").status);
  ExpectOk(Sample("pets", "a face").status);
  EXPECT_EQ(Sample("nope", "a face").status.error_code(), grpc::StatusCode::NOT_FOUND);
  const std::string text = HttpGet(service_->server().metrics_port(), "/metrics");
  // The warm-up on commit was the miss; both samples hit.
  EXPECT_THAT(text, HasSubstr("stamina_sampler_cache_requests_total{result=\"hit\"} 2"));
  EXPECT_THAT(text, HasSubstr("stamina_sampler_cache_requests_total{result=\"miss\"} 1"));
  EXPECT_THAT(text, HasSubstr("stamina_sampler_cache_models 1"));
  EXPECT_THAT(text, HasSubstr(
      "stamina_rpc_duration_seconds_count{method=\"/stamina.v1.SamplerService/Sample\"} 3"));
  EXPECT_THAT(text, HasSubstr("stamina_training_job_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("stamina_job_queue_depth{state=\"queued\"} 0"));
  // One process on the CPU in each role (issue #19).
  int device_lines = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("stamina_compute_devices{", 0) != 0) continue;
    ++device_lines;
    EXPECT_THAT(line, HasSubstr("device=\"cpu\"")) << line;
    EXPECT_THAT(line, HasSubstr("compute_dtype=\"fp32\"")) << line;
    EXPECT_THAT(line, ::testing::EndsWith("} 1")) << line;
  }
  EXPECT_EQ(device_lines, 2);
  EXPECT_THAT(text, HasSubstr("role=\"training\""));
  EXPECT_THAT(text, HasSubstr("role=\"sampling\""));

  // Debian's promtool (package prometheus) lints the exposition.
  const size_t body = text.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  const std::string path = TestPath("metrics.txt");
  {
    std::ofstream out(path);
    out << text.substr(body + 4);
  }
  const std::string report = TestPath("promtool.txt");
  const int rc = std::system(
      ("/usr/bin/promtool check metrics < '" + path + "' > '" + report + "' 2>&1").c_str());
  std::ifstream in(report);
  const std::string problems((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << "promtool check metrics (apt package prometheus):\n" << problems;
  EXPECT_EQ(problems, "");
}

}  // namespace
}  // namespace stamina
