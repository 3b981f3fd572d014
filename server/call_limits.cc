#include "server/call_limits.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace stamina::server {
namespace {

const char* CallName(LongCall call) {
  switch (call) {
    case LongCall::kSample:
      return "Sample";
    case LongCall::kUpload:
      return "UploadImages";
    case LongCall::kWatch:
      return "WatchJob";
  }
  return "?";
}

}  // namespace

CallLimits::CallLimits(Options options)
    : caps_{options.sample, options.upload, options.watch} {}

CallLimits::Slot::Slot(Slot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      call_(other.call_),
      tenant_(std::move(other.tenant_)) {}

CallLimits::Slot& CallLimits::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Release(call_, tenant_);
    owner_ = std::exchange(other.owner_, nullptr);
    call_ = other.call_;
    tenant_ = std::move(other.tenant_);
  }
  return *this;
}

CallLimits::Slot::~Slot() {
  if (owner_ != nullptr) owner_->Release(call_, tenant_);
}

absl::StatusOr<CallLimits::Slot> CallLimits::Acquire(LongCall call,
                                                     const std::string& tenant) {
  const int i = static_cast<int>(call);
  const CallCap& cap = caps_[i];
  absl::MutexLock lock(&mu_);
  int& own = per_tenant_[i][tenant];
  if (cap.per_tenant > 0 && own >= cap.per_tenant) {
    if (own == 0) per_tenant_[i].erase(tenant);
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many concurrent ", CallName(call), " calls: this tenant has ", own,
        " open and the limit is ", cap.per_tenant,
        " (Limits.max_concurrent_*); retry when one ends"));
  }
  if (cap.total > 0 && total_[i] >= cap.total) {
    if (own == 0) per_tenant_[i].erase(tenant);
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many concurrent ", CallName(call), " calls on this server (", total_[i],
        " of ", cap.total, "); retry with back-off"));
  }
  ++own;
  ++total_[i];
  return Slot(this, call, tenant);
}

void CallLimits::Release(LongCall call, const std::string& tenant) {
  const int i = static_cast<int>(call);
  absl::MutexLock lock(&mu_);
  --total_[i];
  auto it = per_tenant_[i].find(tenant);
  if (it != per_tenant_[i].end() && --it->second <= 0) per_tenant_[i].erase(it);
}

int CallLimits::Open(LongCall call) const {
  absl::MutexLock lock(&mu_);
  return total_[static_cast<int>(call)];
}

int CallLimits::Open(LongCall call, const std::string& tenant) const {
  absl::MutexLock lock(&mu_);
  const auto& counts = per_tenant_[static_cast<int>(call)];
  const auto it = counts.find(tenant);
  return it == counts.end() ? 0 : it->second;
}

}  // namespace stamina::server
