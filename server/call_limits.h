// File: server/call_limits.h
//
// CallLimits: caps on the long calls a client can hold open on the front end
// (Sample streams, UploadImages streams, WatchJob streams), per tenant and
// for the whole process, so that no tenant can take every server thread or
// buffer every upload in memory. A call over a cap ends at once with
// RESOURCE_EXHAUSTED naming the limit; a slot frees as soon as its call ends,
// so the next call is served again. The caps are published in
// Limits.max_concurrent_* (per tenant). Sample calls queue behind the
// sampler's own admission (sampler/sample_admission.h); this cap bounds how
// many threads they may hold while they wait.
//
// Thread-safe. Slots give themselves back when destroyed; CallLimits must
// outlive them.
#ifndef STAMINA_SERVER_CALL_LIMITS_H_
#define STAMINA_SERVER_CALL_LIMITS_H_

#include <array>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace stamina::server {

enum class LongCall : int { kSample = 0, kUpload = 1, kWatch = 2 };

struct CallCap {
  int per_tenant = 0;  // 0: no cap
  int total = 0;       // 0: no cap
};

class CallLimits {
 public:
  struct Options {
    CallCap sample{.per_tenant = 8, .total = 64};
    CallCap upload{.per_tenant = 4, .total = 32};
    CallCap watch{.per_tenant = 32, .total = 256};
  };

  explicit CallLimits(Options options);

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();

   private:
    friend class CallLimits;
    Slot(CallLimits* owner, LongCall call, std::string tenant)
        : owner_(owner), call_(call), tenant_(std::move(tenant)) {}
    CallLimits* owner_ = nullptr;
    LongCall call_ = LongCall::kSample;
    std::string tenant_;
  };

  // RESOURCE_EXHAUSTED when `tenant` already holds its share of `call`, or
  // the process its total.
  absl::StatusOr<Slot> Acquire(LongCall call, const std::string& tenant);

  // Calls of a kind open now, in all or of one tenant.
  int Open(LongCall call) const;
  int Open(LongCall call, const std::string& tenant) const;

  const CallCap& cap(LongCall call) const { return caps_[static_cast<int>(call)]; }

 private:
  void Release(LongCall call, const std::string& tenant);

  const std::array<CallCap, 3> caps_;
  mutable absl::Mutex mu_;
  std::array<int, 3> total_ ABSL_GUARDED_BY(mu_) = {0, 0, 0};
  std::array<std::map<std::string, int>, 3> per_tenant_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_CALL_LIMITS_H_
