// The `stamina` CLI library against an in-process ApiServer on port 0 (the
// real gRPC stack, SQLite and blobs under TEST_TMPDIR). The test plays the
// worker through the job store.
#include "cli/commands.h"

#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/api_server.h"
#include "images/test_images.h"

namespace stamina::cli {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// SHA-256 stand-ins (the server checks the shape, not the content).
const std::string kBaseDigest(64, 'a');
const std::string kAdapterDigest(64, 'b');

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  EXPECT_EQ(
      std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()),
      0);
  return dir;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string Png(int side, uint8_t shade) {
  images::PngSpec spec{
      .width = side, .height = side, .color_type = 2, .bit_depth = 8};
  spec.rows.assign(static_cast<size_t>(side * side * 3), shade);
  return images::WriteTestPng(spec);
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServiceLimits limits;
    limits.min_images_per_concept = 2;
    auto created = server::ApiServer::Create(
        {.data_dir = FreshDir("cli-data"),
         .limits = limits,
         .base_models = {{.id = "stamina-tiny-v1", .digest = kBaseDigest}},
         .watch_poll_interval = absl::Milliseconds(5)});
    ASSERT_THAT(created, IsOk());
    server_ = std::move(*created);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    ASSERT_THAT(server_->tenants().CreateTenant("acme", "Acme"), IsOk());
    auto key = server_->tenants().CreateApiKey("acme");
    ASSERT_THAT(key, IsOk());
    key_ = key->secret;
  }

  // Runs one command; its stdout and stderr land in out_ and err_.
  int Run(const std::vector<std::string>& words, const CommandFlags& flags = {},
          const std::string& key = "") {
    CliOptions options;
    options.api_key = key.empty() ? key_ : key;
    options.watch_interval_ms = 1;
    options.flags = flags;
    std::ostringstream out;
    std::ostringstream err;
    Session session(channel_, options, out, err);
    const int code = RunCommand(session, words);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  // Creates models/family with concept anna (token <anna>) and 3 images.
  void ModelWithImages() {
    ASSERT_EQ(Run({"models", "create", "family"}), 0) << err_;
    ASSERT_EQ(Run({"concepts", "create", "family", "anna", "<anna>"}), 0)
        << err_;
    const std::string dir = FreshDir("images");
    for (int i = 0; i < 3; ++i) {
      WriteFile(absl::StrCat(dir, "/", i, ".png"),
                Png(32, static_cast<uint8_t>(10 + i)));
    }
    ASSERT_EQ(Run({"upload", "family", "anna", dir}), 0) << err_;
  }

  // Queues a training job with --no_wait; returns its resource name.
  std::string QueueJob() {
    CommandFlags flags;
    flags.no_wait = true;
    flags.steps = 10;
    EXPECT_EQ(Run({"train", "family", "anna"}, flags), 0) << err_;
    std::smatch match;
    static const std::regex kJob("job (models/family/jobs/\\S+) QUEUED");
    EXPECT_TRUE(std::regex_search(out_, match, kJob)) << out_;
    return match.size() > 1 ? match[1].str() : "";
  }

  // Plays a worker: claims the next job, reports progress, completes it.
  void RunOneJob(const v1::TrainingMetrics& reported = {}) {
    auto lease = server_->jobs().Claim("fake-worker", absl::Seconds(30));
    ASSERT_THAT(lease, IsOk());
    ASSERT_TRUE(lease->has_value());
    ASSERT_THAT(
        server_->jobs().Heartbeat((*lease)->lease_id,
                                  {.phase = storage::JobPhase::kTraining,
                                   .step = 5,
                                   .total_steps = 10,
                                   .loss = 0.25f},
                                  absl::Seconds(30)),
        IsOk());
    v1::TrainingMetrics metrics = reported;
    metrics.set_final_loss(0.125);
    ASSERT_THAT(
        server_->jobs().Complete((*lease)->lease_id,
                                 {.adapter_digest = kAdapterDigest,
                                  .metrics = metrics.SerializeAsString()}),
        IsOk());
  }

  std::unique_ptr<server::ApiServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string key_;
  std::string out_;
  std::string err_;
};

TEST_F(CliTest, ModelsCreateListGet) {
  CommandFlags flags;
  flags.display_name = "The family";
  ASSERT_EQ(Run({"models", "create", "family"}, flags), 0) << err_;
  EXPECT_THAT(out_,
              HasSubstr("created models/family on baseModels/stamina-tiny-v1"));
  ASSERT_EQ(Run({"models", "list"}), 0) << err_;
  EXPECT_THAT(out_, AllOf(HasSubstr("models/family"), HasSubstr("The family")));
  ASSERT_EQ(Run({"models", "get", "family"}), 0) << err_;
  EXPECT_THAT(out_, AllOf(HasSubstr(kBaseDigest), HasSubstr("(base model)")));
  EXPECT_EQ(Run({"models", "get", "missing"}), kExitStatusBase + 5);
  EXPECT_THAT(err_, StartsWith("stamina: NOT_FOUND: "));
}

TEST_F(CliTest, WebhookUrlsAreCheckedAndTheSecretShownAndRotated) {
  CommandFlags flags;
  flags.webhook_url = "http://127.0.0.1:9/hook";  // loopback: refused by default
  EXPECT_EQ(Run({"models", "create", "family"}, flags), kExitStatusBase + 3);
  EXPECT_THAT(err_, HasSubstr("INVALID_ARGUMENT: model.webhook_url: "));
  flags.webhook_url = "https://hooks.example.com/stamina";
  ASSERT_EQ(Run({"models", "create", "family"}, flags), 0) << err_;

  ASSERT_EQ(Run({"webhooks", "secret"}), 0) << err_;
  const std::string secret = out_;
  EXPECT_THAT(secret, StartsWith("whsec_"));
  ASSERT_EQ(Run({"webhooks", "secret"}), 0) << err_;
  EXPECT_EQ(out_, secret);
  CommandFlags rotate;
  rotate.rotate = true;
  ASSERT_EQ(Run({"webhooks", "secret"}, rotate), 0) << err_;
  EXPECT_THAT(out_, StartsWith("whsec_"));
  EXPECT_NE(out_, secret);
}

TEST_F(CliTest, UploadStreamsADirectoryAndReportsEachImage) {
  ASSERT_EQ(Run({"models", "create", "family"}), 0) << err_;
  ASSERT_EQ(Run({"concepts", "create", "family", "anna", "<anna>"}), 0) << err_;
  EXPECT_THAT(
      out_,
      HasSubstr(
          "created models/family/concepts/anna token <anna> state DRAFT"));
  const std::string dir = FreshDir("upload");
  for (int i = 0; i < 3; ++i) {
    WriteFile(absl::StrCat(dir, "/img", i, ".png"),
              Png(32, static_cast<uint8_t>(40 * i)));
  }
  WriteFile(dir + "/bad.jpg", "not a jpeg at all");
  WriteFile(dir + "/notes.txt", "ignored: not an image extension");

  // Atomic by default: the bad file fails the whole upload, named.
  EXPECT_EQ(Run({"upload", "family", "anna", dir}), kExitStatusBase + 3);
  EXPECT_THAT(err_, HasSubstr("stamina: INVALID_ARGUMENT: "));
  EXPECT_THAT(err_, HasSubstr("bad.jpg"));

  CommandFlags flags;
  flags.skip_invalid = true;
  ASSERT_EQ(Run({"upload", "family", "anna", dir}, flags), 0) << err_;
  std::vector<std::string> lines = absl::StrSplit(out_, '\n');
  int created = 0, rejected = 0;
  for (const std::string& line : lines) {
    if (line.find("CREATED") != std::string::npos) ++created;
    if (line.find("REJECTED") != std::string::npos) ++rejected;
  }
  EXPECT_EQ(created, 3) << out_;
  EXPECT_EQ(rejected, 1) << out_;
  EXPECT_THAT(out_, Not(HasSubstr("notes.txt")));
  EXPECT_THAT(out_, HasSubstr("models/family/concepts/anna has 3 images"));
  EXPECT_THAT(err_, HasSubstr("uploading 4/4 files"));  // the progress bar

  // The same bytes again are duplicates; a missing path is a local error.
  ASSERT_EQ(Run({"upload", "family", "anna", dir + "/img0.png"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("DUPLICATE"));
  EXPECT_EQ(Run({"upload", "family", "anna", dir + "/nope"}),
            kExitStatusBase + 5);
  EXPECT_THAT(err_, StartsWith("stamina: NOT_FOUND: "));
  ASSERT_EQ(Run({"concepts", "list", "family"}), 0) << err_;
  EXPECT_THAT(
      out_, AllOf(HasSubstr("anna"), HasSubstr("<anna>"), HasSubstr("DRAFT")));
}

// Issue 17: the lineage shows each concept's latest measured drift.
TEST_F(CliTest, LineageShowsTheForgettingMetric) {
  ModelWithImages();
  QueueJob();
  RunOneJob();
  ASSERT_EQ(Run({"lineage", "family"}), 0) << err_;
  EXPECT_THAT(out_, Not(HasSubstr("forgetting")));  // nothing measured yet

  ASSERT_EQ(Run({"concepts", "create", "family", "mill", "<mill>"}), 0) << err_;
  const std::string dir = FreshDir("mill-images");
  for (int i = 0; i < 3; ++i) {
    WriteFile(absl::StrCat(dir, "/", i, ".png"), Png(32, static_cast<uint8_t>(90 + i)));
  }
  ASSERT_EQ(Run({"upload", "family", "mill", dir}), 0) << err_;
  CommandFlags flags;
  flags.no_wait = true;
  ASSERT_EQ(Run({"train", "family", "mill"}, flags), 0) << err_;
  v1::TrainingMetrics reported;
  v1::ConceptDrift* drift = reported.add_concept_drift();
  drift->set_concept("models/family/concepts/anna");
  drift->set_token("<anna>");
  drift->set_learned_version("models/family/versions/1");
  drift->set_drift(0.0312);
  drift->set_images(4);
  RunOneJob(reported);

  ASSERT_EQ(Run({"lineage", "family"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("forgetting: RMS pixel drift"));
  EXPECT_THAT(out_, ContainsRegex("<anna> +1 +0\\.031 +2"));
  EXPECT_THAT(out_, ContainsRegex("<mill> +2 +- +not measured yet"));
}

TEST_F(CliTest, TrainWatchLineageAndErase) {
  ModelWithImages();
  const std::string job = QueueJob();
  ASSERT_FALSE(job.empty());
  const std::string job_id = job.substr(job.rfind('/') + 1);
  ASSERT_EQ(Run({"jobs", "get", "family", job_id}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("QUEUED position 0"));

  std::thread worker([&] { RunOneJob(); });
  const int watched = Run({"jobs", "watch", "family", job_id});
  worker.join();
  EXPECT_EQ(watched, 0) << err_;
  EXPECT_THAT(out_, HasSubstr("SUCCEEDED: models/family/versions/1"));
  // The progress bar's last line, once (the stream's last snapshot and the
  // final state are the same line).
  size_t succeeded_lines = 0;
  for (size_t at = err_.find("100% SUCCEEDED"); at != std::string::npos;
       at = err_.find("100% SUCCEEDED", at + 1)) {
    ++succeeded_lines;
  }
  EXPECT_EQ(succeeded_lines, 1u) << err_;
  EXPECT_THAT(err_, Not(HasSubstr("ETA -")));

  ASSERT_EQ(Run({"lineage", "family"}), 0) << err_;
  EXPECT_THAT(
      out_, AllOf(HasSubstr("<anna>"), HasSubstr(kAdapterDigest.substr(0, 12)),
                  HasSubstr("0.1250")));
  ASSERT_EQ(Run({"lineage", "family", "1"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("<anna>"));
  ASSERT_EQ(Run({"versions", "family"}), 0) << err_;
  EXPECT_THAT(out_, AllOf(HasSubstr("<anna>"), HasSubstr("STAMINA")));
  ASSERT_EQ(Run({"jobs", "list", "-"}), 0) << err_;
  EXPECT_THAT(out_, AllOf(HasSubstr(job), HasSubstr("SUCCEEDED")));
  ASSERT_EQ(Run({"models", "fork", "family", "1", "family-copy"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("created models/family-copy from models/family/versions/1 "
                              "(1 versions, head models/family-copy/versions/1)"));
  ASSERT_EQ(Run({"lineage", "family-copy"}), 0) << err_;
  EXPECT_THAT(out_, AllOf(HasSubstr("<anna>"), HasSubstr(kAdapterDigest.substr(0, 12))));
  ASSERT_EQ(Run({"models", "get", "family-copy"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("models/family/versions/1"));
  ASSERT_EQ(Run({"models", "rollback", "family", "1"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("models/family/versions/1"));

  // A trained concept needs --force; then the version goes too.
  EXPECT_EQ(Run({"concepts", "delete", "family", "anna"}), kExitStatusBase + 9);
  EXPECT_THAT(err_, StartsWith("stamina: FAILED_PRECONDITION: "));
  CommandFlags force;
  force.force = true;
  ASSERT_EQ(Run({"concepts", "delete", "family", "anna"}, force), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("erased versions: 1 (models/family/versions/1)"));
  ASSERT_EQ(Run({"models", "delete", "family"}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("erased models: 1 (models/family)"));
}

TEST_F(CliTest, FailedJobExitsNonZeroThenRetryAndCancel) {
  ModelWithImages();
  const std::string job = QueueJob();
  auto lease = server_->jobs().Claim("fake-worker", absl::Seconds(30));
  ASSERT_THAT(lease, IsOk());
  ASSERT_TRUE(lease->has_value());
  ASSERT_THAT(server_->jobs().Fail(
                  (*lease)->lease_id,
                  {.code = 8, .message = "out of memory", .retryable = false},
                  /*cancelled=*/false),
              IsOk());
  EXPECT_EQ(Run({"jobs", "watch", "family", job}), kExitJobFailed);
  EXPECT_THAT(out_, HasSubstr("FAILED: RESOURCE_EXHAUSTED: out of memory"));
  ASSERT_EQ(Run({"jobs", "retry", "family", job}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr(job + " QUEUED (attempt"));
  ASSERT_EQ(Run({"jobs", "cancel", "family", job}), 0) << err_;
  EXPECT_THAT(out_, HasSubstr("CANCELLED"));
  EXPECT_EQ(Run({"jobs", "watch", "family", job}), kExitJobCancelled);
}

TEST_F(CliTest, TrainRejectsAnUnknownMethodLocally) {
  ModelWithImages();
  CommandFlags flags;
  flags.method = "dreambooth";
  EXPECT_EQ(Run({"train", "family", "anna"}, flags), kExitStatusBase + 3);
  EXPECT_THAT(err_, HasSubstr("--method"));
}

TEST_F(CliTest, TrainSendsTheAugmentationAsked) {
  ModelWithImages();
  CommandFlags flags;
  flags.no_wait = true;
  flags.augment = "rotate";
  EXPECT_EQ(Run({"train", "family", "anna"}, flags), kExitStatusBase + 3);
  EXPECT_THAT(err_, HasSubstr("--augment: \"rotate\""));

  flags.augment = "flip";
  ASSERT_EQ(Run({"train", "family", "anna"}, flags), 0) << err_;
  auto lease = server_->jobs().Claim("fake-worker", absl::Seconds(30));
  ASSERT_THAT(lease, IsOk());
  ASSERT_TRUE(lease->has_value());
  v1::TrainingSettings settings;
  ASSERT_TRUE(settings.ParseFromString((*lease)->job.settings));
  const v1::Augmentation& augmentation = settings.augmentation();
  EXPECT_EQ(augmentation.flip(), v1::AUGMENTATION_SWITCH_ON);
  EXPECT_EQ(augmentation.shift(), v1::AUGMENTATION_SWITCH_OFF);
}

TEST_F(CliTest, Capabilities) {
  ASSERT_EQ(Run({"capabilities"}), 0) << err_;
  EXPECT_THAT(
      out_, AllOf(HasSubstr("baseModels/stamina-tiny-v1"), HasSubstr("STAMINA"),
                  HasSubstr("images per concept")));
}

TEST_F(CliTest, SampleReportsUnimplementedInOneLine) {
  ASSERT_EQ(Run({"models", "create", "family"}), 0) << err_;
  CommandFlags flags;
  flags.prompt = "a photo of <anna>";
  flags.out_dir = FreshDir("samples");
  EXPECT_EQ(Run({"sample", "family"}, flags), kExitStatusBase + 12);
  EXPECT_THAT(err_, StartsWith("stamina: UNIMPLEMENTED: "));
  EXPECT_EQ(std::count(err_.begin(), err_.end(), '\n'), 1) << err_;
  EXPECT_EQ(out_, "");
  // --prompt is required, before any call.
  EXPECT_EQ(Run({"sample", "family"}), kExitStatusBase + 3);
  EXPECT_THAT(err_, HasSubstr("--prompt"));
}

TEST_F(CliTest, WrongKeyIsUnauthenticated) {
  EXPECT_EQ(Run({"models", "list"}, {}, "stk_wrong"), kExitStatusBase + 16);
  EXPECT_THAT(err_, StartsWith("stamina: UNAUTHENTICATED: "));
  EXPECT_THAT(err_, Not(HasSubstr("stk_wrong")));
}

TEST_F(CliTest, UsageErrors) {
  EXPECT_EQ(Run({}), kExitStatusBase + 3);
  EXPECT_THAT(err_, HasSubstr("no command"));
  EXPECT_EQ(Run({"models"}), kExitStatusBase + 3);
  EXPECT_THAT(err_, HasSubstr("unknown command \"models\""));
  EXPECT_EQ(Run({"models", "get"}), kExitStatusBase + 3);
  EXPECT_THAT(err_, HasSubstr("usage: stamina models get <model>"));
  EXPECT_EQ(Run({"help"}), 0);
  EXPECT_THAT(out_, AllOf(HasSubstr("stamina upload"),
                          HasSubstr("stamina jobs watch")));
}

TEST(CliOfflineTest, UnreachableServerIsUnavailable) {
  // Nothing listens on port 1.
  auto channel =
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  std::ostringstream out, err;
  Session session(channel, {.api_key = "k"}, out, err);
  EXPECT_EQ(RunCommand(session, {"models", "list"}), kExitStatusBase + 14);
  EXPECT_THAT(err.str(), StartsWith("stamina: UNAVAILABLE: "));
}

}  // namespace
}  // namespace stamina::cli
