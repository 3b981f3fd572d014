#include "server/upkeep.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace stamina::server {

absl::StatusOr<std::unique_ptr<Upkeep>> Upkeep::Create(Options options) {
  if (options.jobs == nullptr) return absl::InvalidArgumentError("jobs: required");
  if (options.lease_check_interval <= absl::ZeroDuration() ||
      options.blob_sweep_interval <= absl::ZeroDuration() ||
      options.memory_release_interval <= absl::ZeroDuration() ||
      options.request_id_sweep_interval <= absl::ZeroDuration() ||
      options.request_id_retention <= absl::ZeroDuration() || options.clock == nullptr) {
    return absl::InvalidArgumentError("intervals: must be positive");
  }
  std::unique_ptr<Upkeep> upkeep(new Upkeep(std::move(options)));
  upkeep->thread_ = std::thread([u = upkeep.get()] { u->Run(); });
  return upkeep;
}

Upkeep::~Upkeep() { Stop(); }

void Upkeep::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

Upkeep::Counts Upkeep::counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

void Upkeep::Run() {
  auto log = [this](const std::string& line) {
    if (options_.log) options_.log(line);
  };
  // Monotonic schedule: the chores run on the process's own time, not the
  // registry's (injected) clock.
  absl::Time next_sweep = absl::Now() + options_.blob_sweep_interval;
  absl::Time next_release = absl::Now() + options_.memory_release_interval;
  absl::Time next_forget = absl::Now();
  do {
    absl::StatusOr<int> requeued = options_.jobs->RequeueExpiredLeases();
    if (!requeued.ok()) {
      log(absl::StrCat("upkeep: requeueing expired leases: ", requeued.status().ToString()));
    } else if (*requeued > 0) {
      log(absl::StrCat("upkeep: ", *requeued, " expired job leases requeued"));
    }
    {
      absl::MutexLock lock(&mu_);
      ++counts_.lease_checks;
      if (requeued.ok()) counts_.leases_requeued += *requeued;
    }
    if (options_.blob_collector != nullptr && absl::Now() >= next_sweep) {
      next_sweep = absl::Now() + options_.blob_sweep_interval;
      absl::StatusOr<storage::GcReport> report = options_.blob_collector->Collect();
      if (!report.ok()) {
        log(absl::StrCat("upkeep: blob sweep: ", report.status().ToString()));
      } else if (!report->deleted.empty()) {
        log(absl::StrCat("upkeep: blob sweep deleted ", report->deleted.size(),
                         " unreferenced blobs (", report->freed_bytes, " bytes)"));
      }
      absl::MutexLock lock(&mu_);
      ++counts_.sweeps;
      if (report.ok()) counts_.blobs_deleted += static_cast<int64_t>(report->deleted.size());
    }
    if (options_.release_free_memory && absl::Now() >= next_release) {
      next_release = absl::Now() + options_.memory_release_interval;
      options_.release_free_memory();
      absl::MutexLock lock(&mu_);
      ++counts_.memory_releases;
    }
    if (options_.models != nullptr && absl::Now() >= next_forget) {
      next_forget = absl::Now() + options_.request_id_sweep_interval;
      absl::StatusOr<int64_t> forgotten =
          options_.models->ForgetRequestIds(options_.clock->Now() - options_.request_id_retention);
      if (!forgotten.ok()) {
        log(absl::StrCat("upkeep: forgetting request ids: ", forgotten.status().ToString()));
      }
      absl::MutexLock lock(&mu_);
      ++counts_.request_id_sweeps;
      if (forgotten.ok()) counts_.request_ids_forgotten += *forgotten;
    }
    const absl::Duration until_sweep =
        options_.blob_collector != nullptr ? next_sweep - absl::Now() : absl::InfiniteDuration();
    const absl::Duration until_release =
        options_.release_free_memory ? next_release - absl::Now() : absl::InfiniteDuration();
    const absl::Duration until_forget =
        options_.models != nullptr ? next_forget - absl::Now() : absl::InfiniteDuration();
    const absl::Duration wait = std::max(
        absl::ZeroDuration(),
        std::min({options_.lease_check_interval, until_sweep, until_release, until_forget}));
    if (stop_.WaitForNotificationWithTimeout(wait)) return;
  } while (true);
}

}  // namespace stamina::server
