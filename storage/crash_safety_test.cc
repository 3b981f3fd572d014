// Acceptance: a child process doing upload + job transactions (blob file,
// concept, image row, queued job) is SIGKILLed mid-stream. Every write it
// acknowledged (reported through a pipe only after the commit returned OK)
// must survive, and the registry must pass PRAGMA integrity_check.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ids.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/file_blob_store.h"
#include "storage/registry_database.h"
#include "storage/sqlite_job_store.h"
#include "storage/sqlite_model_store.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

constexpr int kIterations = 1000;

void WriteLine(int fd, const std::string& line) {
  const std::string text = line + "\n";
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    _exit(3);
  }
}

// The child: never returns.
[[noreturn]] void RunWriter(const std::string& db_file,
                            const std::string& blob_root, int ack_fd) {
  auto registry = TestRegistry::Create(
      {.file = db_file, .synchronous = Database::Synchronous::kFull});
  auto blobs = FileBlobStore::Create({.root = blob_root});
  if (!registry.ok() || !blobs.ok()) _exit(2);
  TestRegistry& r = **registry;
  if (!r.AddModel("acme", "family").ok()) _exit(2);
  WriteLine(ack_fd, "ready");
  for (int i = 0; i < kIterations; ++i) {
    const std::string concept = absl::StrCat("c", i);
    auto digest = (*blobs)->Put(absl::StrCat("image bytes of ", concept));
    if (!digest.ok()) _exit(4);
    if (!r.models()
             .CreateConcept({.tenant_id = "acme", .model_id = "family",
                             .id = concept, .token = "<" + concept + ">"})
             .ok() ||
        !r.models()
             .AddImage("acme", "family", concept,
                       {.digest = *digest, .size_bytes = 20})
             .ok()) {
      _exit(5);
    }
    WriteLine(ack_fd, absl::StrCat("upload ", concept, " ", *digest));
    auto job = r.jobs().Create(
        {.tenant_id = "acme", .model_id = "family", .concept_id = concept});
    if (!job.ok()) _exit(6);
    WriteLine(ack_fd, absl::StrCat("job ", concept, " ", job->id));
  }
  _exit(0);
}

class CrashSafetyTest : public ::testing::TestWithParam<int> {};

TEST_P(CrashSafetyTest, AcknowledgedWritesSurviveSigkill) {
  const int kill_after_acks = GetParam();
  const std::string db_file = absl::StrCat("crash", kill_after_acks, ".db");
  const std::string blob_root = FreshTestPath(absl::StrCat("crash_blobs", kill_after_acks));
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    RunWriter(db_file, blob_root, fds[1]);
  }
  close(fds[1]);
  FILE* acks = fdopen(fds[0], "r");
  ASSERT_NE(acks, nullptr);
  std::vector<std::string> lines;
  char buffer[512];
  bool killed = false;
  while (fgets(buffer, sizeof(buffer), acks) != nullptr) {
    lines.emplace_back(buffer, strcspn(buffer, "\n"));
    if (!killed && static_cast<int>(lines.size()) == kill_after_acks) {
      ASSERT_EQ(kill(child, SIGKILL), 0);  // mid-transaction, most likely
      killed = true;
    }
  }
  fclose(acks);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(killed) << "child finished early, status " << status;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ASSERT_FALSE(lines.empty());
  ASSERT_EQ(lines[0], "ready");

  // Reopen as a fresh process would.
  const std::string path = FreshTestPath("unused") ;  // only for the dir
  const std::string db_path =
      path.substr(0, path.rfind('/') + 1) + db_file;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto db, RegistryDatabase::Open({.path = db_path}));
  STAMINA_ASSERT_OK(db->CheckIntegrity());
  SequentialIdGenerator ids("after");
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto models, SqliteModelStore::Create({.db = db.get(), .clock = Clock::Real()}));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto jobs, SqliteJobStore::Create({.db = db.get(), .clock = Clock::Real(),
                                         .ids = &ids}));
  STAMINA_ASSERT_OK_AND_ASSIGN(auto blobs, FileBlobStore::Create({.root = blob_root}));
  int uploads = 0, queued = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> parts = absl::StrSplit(lines[i], ' ');
    ASSERT_EQ(parts.size(), 3u) << lines[i];
    if (parts[0] == "upload") {
      ++uploads;
      STAMINA_ASSERT_OK_AND_ASSIGN(
          std::vector<ImageRecord> images,
          models->ListImages("acme", "family", parts[1]));
      ASSERT_EQ(images.size(), 1u) << lines[i];
      EXPECT_EQ(images[0].digest, parts[2]);
      EXPECT_THAT(blobs->Get(parts[2]),
                  IsOkAndHolds("image bytes of " + parts[1]));
    } else {
      ASSERT_EQ(parts[0], "job");
      ++queued;
      STAMINA_ASSERT_OK_AND_ASSIGN(JobRecord job,
                                   jobs->Get("acme", "family", parts[2]));
      EXPECT_EQ(job.state, JobState::kQueued);
      EXPECT_EQ(job.concept_id, parts[1]);
    }
  }
  EXPECT_GE(uploads + queued + 1, kill_after_acks);
  // The registry stays usable: a new write on top of the survivor works.
  STAMINA_ASSERT_OK(models->CreateConcept({.tenant_id = "acme", .model_id = "family",
                                           .id = "after-crash", .token = "<after>"})
                        .status());
}

INSTANTIATE_TEST_SUITE_P(KillPoints, CrashSafetyTest,
                         ::testing::Values(40, 333, 1201));

}  // namespace
}  // namespace stamina::storage
