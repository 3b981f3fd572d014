// Acceptance: 4 threads claim and complete 1,000 jobs of 5 tenants x 20
// models (10 jobs per model) on one registry file. No job runs twice, each
// model's jobs run in creation order, each trained on its predecessor's
// version, no model ever has two running jobs, and tenants interleave.
#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sha256.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

constexpr int kTenants = 5;
constexpr int kModelsPerTenant = 20;
constexpr int kJobsPerModel = 10;
constexpr int kWorkers = 4;
constexpr int kTotal = kTenants * kModelsPerTenant * kJobsPerModel;

struct JobRun {
  std::string job_id;
  std::string tenant;
  std::string model;  // "tenant/model"
  int64_t claim_index = 0;
  int32_t attempt = 0;
  std::optional<int64_t> parent_version;
  int64_t result_version = 0;
  size_t running_on_model = 0;  // seen right after the claim
};

TEST(JobQueueConcurrencyTest, FourWorkersThousandJobs) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create({.file = "queue.db"}));
  // Tenant by tenant, model by model: creation order alone would serve
  // tenant0 first and queue a model's next job right behind its running one,
  // so only the scheduler's fairness and per-model exclusion pass this test.
  std::map<std::string, std::vector<std::string>> created;
  for (int t = 0; t < kTenants; ++t) {
    for (int m = 0; m < kModelsPerTenant; ++m) {
      for (int k = 0; k < kJobsPerModel; ++k) {
        const std::string tenant = absl::StrCat("tenant", t);
        const std::string model = absl::StrCat("m", m);
        const std::string concept = absl::StrCat("c", k);
        STAMINA_ASSERT_OK(r->AddTrainableConcept(tenant, model, concept, 1));
        STAMINA_ASSERT_OK_AND_ASSIGN(
            JobRecord job, r->jobs().Create({.tenant_id = tenant,
                                             .model_id = model,
                                             .concept_id = concept}));
        created[tenant + "/" + model].push_back(job.id);
      }
    }
  }

  std::atomic<int64_t> next_index{0};
  std::atomic<int> completed{0};
  absl::Mutex mu;
  std::vector<JobRun> runs;
  std::vector<std::thread> workers;
  std::atomic<bool> failed{false};
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      const std::string worker = absl::StrCat("worker", w);
      while (completed.load() < kTotal && !failed.load()) {
        auto lease = r->jobs().Claim(worker, absl::Hours(1));
        if (!lease.ok()) {
          ADD_FAILURE() << lease.status();
          failed = true;
          return;
        }
        if (!lease->has_value()) {
          std::this_thread::yield();
          continue;
        }
        JobRun run;
        run.claim_index = next_index++;
        run.job_id = (*lease)->job.id;
        run.tenant = (*lease)->job.tenant_id;
        run.model = run.tenant + "/" + (*lease)->job.model_id;
        run.attempt = (*lease)->job.attempt;
        run.parent_version = (*lease)->job.parent_version;
        auto running = r->jobs().List({.tenant_id = run.tenant,
                                       .model_id = (*lease)->job.model_id,
                                       .states = {JobState::kRunning}});
        run.running_on_model = running.ok() ? running->jobs.size() : 99;
        auto version = r->jobs().Complete(
            (*lease)->lease_id, {.adapter_digest = Sha256Hex(run.job_id)});
        if (!version.ok()) {
          ADD_FAILURE() << version.status();
          failed = true;
          return;
        }
        run.result_version = version->version;
        ++completed;
        absl::MutexLock lock(&mu);
        runs.push_back(std::move(run));
      }
    });
  }
  for (auto& t : workers) t.join();
  ASSERT_FALSE(failed.load());
  ASSERT_EQ(runs.size(), static_cast<size_t>(kTotal));

  // No job ran twice, and none needed a second attempt.
  std::map<std::string, int> times_run;
  for (const JobRun& run : runs) {
    ++times_run[run.job_id];
    EXPECT_EQ(run.attempt, 1) << run.job_id;
    EXPECT_EQ(run.running_on_model, 1u) << "two jobs running on " << run.model;
  }
  EXPECT_EQ(times_run.size(), static_cast<size_t>(kTotal));

  // Per model: claimed in creation order, each on its predecessor's version.
  std::map<std::string, std::vector<JobRun>> by_model;
  for (const JobRun& run : runs) by_model[run.model].push_back(run);
  ASSERT_EQ(by_model.size(), static_cast<size_t>(kTenants * kModelsPerTenant));
  for (auto& [model, model_runs] : by_model) {
    std::sort(model_runs.begin(), model_runs.end(),
              [](const JobRun& a, const JobRun& b) { return a.claim_index < b.claim_index; });
    std::vector<std::string> order;
    for (const JobRun& run : model_runs) order.push_back(run.job_id);
    EXPECT_EQ(order, created[model]) << model;
    EXPECT_EQ(model_runs[0].parent_version, std::nullopt) << model;
    for (size_t k = 1; k < model_runs.size(); ++k) {
      EXPECT_EQ(model_runs[k].parent_version, model_runs[k - 1].result_version)
          << model << " job " << k;
    }
  }

  // Tenants interleave: while every tenant has work, any 25 consecutive
  // claims include every tenant at least twice (strict round-robin gives 5).
  std::sort(runs.begin(), runs.end(),
            [](const JobRun& a, const JobRun& b) { return a.claim_index < b.claim_index; });
  for (size_t start = 0; start + 25 <= 900; ++start) {
    std::map<std::string, int> seen;
    for (size_t i = start; i < start + 25; ++i) ++seen[runs[i].tenant];
    ASSERT_EQ(seen.size(), static_cast<size_t>(kTenants)) << "window " << start;
    for (const auto& [tenant, count] : seen) {
      ASSERT_GE(count, 2) << tenant << " in window " << start;
    }
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(JobCounts counts, r->jobs().Count());
  EXPECT_EQ(counts.queued + counts.running + counts.failed, 0);
  STAMINA_ASSERT_OK(r->db().CheckIntegrity());
}

}  // namespace
}  // namespace stamina::storage
