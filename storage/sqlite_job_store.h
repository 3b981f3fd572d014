// File: storage/sqlite_job_store.h
//
// JobStore on the registry's SQLite file. Every operation is one IMMEDIATE
// transaction, so a claim, a completion (job + version + head + concept) or a
// lease expiry is all-or-nothing, and an acknowledged change is durable.
//
// This class is thread-safe. The Clock and IdGenerator are not owned and must
// outlive the store.
#ifndef STAMINA_STORAGE_SQLITE_JOB_STORE_H_
#define STAMINA_STORAGE_SQLITE_JOB_STORE_H_

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "storage/job_store.h"
#include "storage/registry_database.h"

namespace stamina::storage {

class SqliteJobStore final : public JobStore {
 public:
  struct Options {
    RegistryDatabase* db = nullptr;  // not owned
    Clock* clock = nullptr;          // not owned
    IdGenerator* ids = nullptr;      // not owned; job and lease ids
    // Most QUEUED + RUNNING + FAILED jobs per tenant; 0 = unlimited.
    int max_open_jobs_per_tenant = 0;
    // Fewest images a concept needs to be trained.
    int min_images_per_concept = 1;
    // Attempts (claims) before a lost lease or a retryable error fails the
    // job for good.
    int max_attempts = 3;
  };

  // INVALID_ARGUMENT when a pointer is missing or a limit is negative.
  static absl::StatusOr<std::unique_ptr<SqliteJobStore>> Create(
      Options options);

  absl::StatusOr<JobRecord> Create(const NewJob& job) override;
  absl::StatusOr<JobRecord> Get(const std::string& tenant_id,
                                const std::string& model_id,
                                const std::string& job_id) override;
  absl::StatusOr<JobPage> List(const ListJobsQuery& query) override;
  absl::StatusOr<std::optional<JobLease>> Claim(const std::string& worker,
                                                absl::Duration ttl) override;
  absl::StatusOr<JobRecord> GetLeased(const std::string& lease_id) override;
  absl::StatusOr<HeartbeatResult> Heartbeat(const std::string& lease_id,
                                            const JobProgressRecord& progress,
                                            absl::Duration ttl) override;
  absl::StatusOr<VersionRecord> Complete(
      const std::string& lease_id, const CompletedTraining& result) override;
  absl::StatusOr<JobState> Fail(const std::string& lease_id,
                                const JobErrorRecord& error,
                                bool cancelled) override;
  absl::StatusOr<JobRecord> Cancel(const std::string& tenant_id,
                                   const std::string& model_id,
                                   const std::string& job_id) override;
  absl::StatusOr<JobRecord> Retry(const std::string& tenant_id,
                                  const std::string& model_id,
                                  const std::string& job_id) override;
  absl::StatusOr<int> RequeueExpiredLeases() override;
  absl::StatusOr<JobCounts> Count() override;

 private:
  explicit SqliteJobStore(Options options) : options_(options) {}

  const Options options_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SQLITE_JOB_STORE_H_
