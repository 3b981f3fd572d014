#include "sampler/sample_admission.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace stamina::sampler {
namespace {

std::string MiB(int64_t bytes) { return absl::StrCat((bytes + (1 << 20) - 1) >> 20, " MiB"); }

}  // namespace

SampleAdmission::Grant::Grant(Grant&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      bytes_(other.bytes_),
      start_(other.start_) {}

SampleAdmission::Grant& SampleAdmission::Grant::operator=(Grant&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Release(bytes_, start_);
    owner_ = std::exchange(other.owner_, nullptr);
    bytes_ = other.bytes_;
    start_ = other.start_;
  }
  return *this;
}

SampleAdmission::Grant::~Grant() {
  if (owner_ != nullptr) owner_->Release(bytes_, start_);
}

absl::StatusOr<std::unique_ptr<SampleAdmission>> SampleAdmission::Create(
    Options options) {
  if (options.slots < 1) return absl::InvalidArgumentError("slots: must be >= 1");
  if (options.memory_budget_bytes <= 0) {
    return absl::InvalidArgumentError("memory_budget_bytes: must be positive");
  }
  if (options.max_waiting < 0 || options.max_waiting_per_tenant < 0) {
    return absl::InvalidArgumentError("max_waiting: must be >= 0");
  }
  if (options.clock == nullptr) return absl::InvalidArgumentError("clock: required");
  return std::unique_ptr<SampleAdmission>(new SampleAdmission(options));
}

bool SampleAdmission::Fits(int64_t bytes) const {
  return stats_.running < options_.slots &&
         stats_.bytes_in_use + bytes <= options_.memory_budget_bytes;
}

void SampleAdmission::GrantWaiting() {
  while (!turns_.empty()) {
    const std::string tenant = turns_.front();
    std::deque<Waiter*>& queue = queues_[tenant];
    Waiter* next = queue.front();
    if (!Fits(next->bytes)) return;
    next->granted = true;
    ++stats_.running;
    stats_.bytes_in_use += next->bytes;
    --stats_.waiting;
    ++stats_.admitted;
    queue.pop_front();
    turns_.pop_front();
    if (queue.empty()) {
      queues_.erase(tenant);
    } else {
      turns_.push_back(tenant);
    }
  }
}

void SampleAdmission::Remove(Waiter* waiter) {
  std::deque<Waiter*>& queue = queues_[waiter->tenant];
  queue.erase(std::find(queue.begin(), queue.end(), waiter));
  --stats_.waiting;
  if (queue.empty()) {
    queues_.erase(waiter->tenant);
    turns_.erase(std::find(turns_.begin(), turns_.end(), waiter->tenant));
  }
  GrantWaiting();  // the removed one may have been what blocked the head
  changed_.SignalAll();
}

int SampleAdmission::Ahead(const Waiter* waiter) const {
  // Round-robin order: position p in a tenant's queue goes after p requests
  // of every tenant whose queue is at least as long, roughly.
  const auto& own = queues_.at(waiter->tenant);
  const int position =
      static_cast<int>(std::find(own.begin(), own.end(), waiter) - own.begin());
  int ahead = 0;
  for (const auto& [tenant, queue] : queues_) {
    ahead += std::min(static_cast<int>(queue.size()),
                      tenant == waiter->tenant ? position : position + 1);
  }
  return ahead;
}

absl::Duration SampleAdmission::RetryHint() const {
  const absl::Duration run =
      average_run_ > absl::ZeroDuration() ? average_run_ : absl::Seconds(1);
  const double rounds =
      std::ceil(static_cast<double>(stats_.waiting + stats_.running) / options_.slots);
  return absl::Seconds(std::max(1.0, std::ceil(absl::ToDoubleSeconds(run) * rounds)));
}

absl::StatusOr<SampleAdmission::Grant> SampleAdmission::Admit(
    const std::string& tenant, int64_t bytes, const std::function<bool()>& cancelled,
    const QueuedFn& queued) {
  if (bytes > options_.memory_budget_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the request needs about ", MiB(bytes),
                     " of sampling memory; this sampler's budget is ",
                     MiB(options_.memory_budget_bytes)));
  }
  absl::MutexLock lock(&mu_);
  const auto own = queues_.find(tenant);
  const int own_waiting = own == queues_.end() ? 0 : static_cast<int>(own->second.size());
  if (turns_.empty() && Fits(bytes)) {
    ++stats_.running;
    stats_.bytes_in_use += bytes;
    ++stats_.admitted;
    return Grant(this, bytes, options_.clock->Now());
  }
  if (stats_.waiting >= options_.max_waiting ||
      own_waiting >= options_.max_waiting_per_tenant) {
    ++stats_.refused_busy;
    return absl::ResourceExhaustedError(absl::StrCat(
        "sampler busy: ", stats_.running, " running and ", stats_.waiting,
        " waiting (", own_waiting, " of them yours; the limits are ", options_.max_waiting,
        " and ", options_.max_waiting_per_tenant, " per tenant); retry in about ",
        absl::ToInt64Seconds(RetryHint()), " s"));
  }
  Waiter waiter{.tenant = tenant, .bytes = bytes};
  std::deque<Waiter*>& queue = queues_[tenant];
  if (queue.empty()) turns_.push_back(tenant);
  queue.push_back(&waiter);
  ++stats_.waiting;
  int reported = -1;
  while (!waiter.granted) {
    if (queued) {
      const int ahead = Ahead(&waiter);
      if (ahead != reported) {
        reported = ahead;
        mu_.Unlock();
        queued(ahead);
        mu_.Lock();
        if (waiter.granted) break;
      }
    }
    if (cancelled && cancelled()) {
      Remove(&waiter);
      ++stats_.cancelled_waiting;
      return absl::CancelledError("the caller went away while the request waited");
    }
    changed_.WaitWithTimeout(&mu_, options_.cancel_poll);
  }
  return Grant(this, bytes, options_.clock->Now());
}

void SampleAdmission::Release(int64_t bytes, absl::Time start) {
  const absl::Duration run = options_.clock->Now() - start;
  absl::MutexLock lock(&mu_);
  --stats_.running;
  stats_.bytes_in_use -= bytes;
  average_run_ = average_run_ == absl::ZeroDuration() ? run : 0.8 * average_run_ + 0.2 * run;
  GrantWaiting();
  changed_.SignalAll();
}

SampleAdmission::Stats SampleAdmission::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace stamina::sampler
