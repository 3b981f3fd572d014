#include "server/proto_conversions.h"

#include "gtest/gtest.h"

namespace stamina::server {
namespace {

storage::JobRecord Job(storage::JobState state) {
  storage::JobRecord job;
  job.id = "j1";
  job.model_id = "m";
  job.concept_id = "anna";
  job.state = state;
  job.create_time = absl::FromUnixSeconds(1000);
  return job;
}

TEST(ProtoConversionsTest, QueuedJobsReportTheirPlaceInTheModelsLine) {
  storage::JobRecord job = Job(storage::JobState::kQueued);
  job.open_jobs_ahead = 3;
  v1::Job proto = ToProto(job);
  EXPECT_EQ(proto.name(), "models/m/jobs/j1");
  EXPECT_EQ(proto.concept(), "models/m/concepts/anna");
  EXPECT_EQ(proto.progress().queue_position(), 3);
  EXPECT_FALSE(proto.progress().has_eta());
  EXPECT_EQ(proto.progress().phase(), v1::JOB_PHASE_UNSPECIFIED);
  EXPECT_EQ(proto.blocked_by(), "");
}

TEST(ProtoConversionsTest, AFailedJobHoldingTheModelIsNamed) {
  storage::JobRecord job = Job(storage::JobState::kQueued);
  job.blocked_by_job_id = "j0";
  EXPECT_EQ(ToProto(job).blocked_by(), "models/m/jobs/j0");
  storage::ModelRecord model{.id = "m", .failed_job_id = "j0"};
  EXPECT_EQ(ToProto(model).blocking_job(), "models/m/jobs/j0");
  model.failed_job_id.clear();
  EXPECT_EQ(ToProto(model).blocking_job(), "");
}

TEST(ProtoConversionsTest, RunningJobsReportEtaFromTheirStepRate) {
  storage::JobRecord job = Job(storage::JobState::kRunning);
  job.progress = {.phase = storage::JobPhase::kTraining, .step = 5,
                  .total_steps = 10, .loss = 0.5f, .training_seconds = 20};
  job.open_jobs_ahead = 7;  // irrelevant once running
  v1::Job proto = ToProto(job);
  EXPECT_EQ(proto.progress().phase(), v1::JOB_PHASE_TRAINING);
  EXPECT_EQ(proto.progress().eta().seconds(), 20);  // 4 s/step, 5 left
  EXPECT_FLOAT_EQ(proto.progress().fraction_done(), 0.5f);
  EXPECT_EQ(proto.progress().queue_position(), 0);
  EXPECT_DOUBLE_EQ(proto.training_seconds(), 20);

  job.progress.step = 0;  // no rate yet
  EXPECT_FALSE(ToProto(job).progress().has_eta());
}

TEST(ProtoConversionsTest, TimestampsKeepMicroseconds) {
  google::protobuf::Timestamp ts =
      ToTimestamp(absl::FromUnixMicros(1'700'000'000'123'456));
  EXPECT_EQ(ts.seconds(), 1'700'000'000);
  EXPECT_EQ(ts.nanos(), 123'456'000);
  ts = ToTimestamp(absl::FromUnixMicros(-1));
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 999'999'000);
}

TEST(ProtoConversionsTest, SucceededJobsAreDoneWithTheirVersion) {
  storage::JobRecord job = Job(storage::JobState::kSucceeded);
  job.result_version = 4;
  job.end_time = absl::FromUnixSeconds(2000);
  v1::Job proto = ToProto(job);
  EXPECT_EQ(proto.result_version(), "models/m/versions/4");
  EXPECT_FLOAT_EQ(proto.progress().fraction_done(), 1.0f);
  EXPECT_EQ(proto.end_time().seconds(), 2000);
}

}  // namespace
}  // namespace stamina::server
