#include "server/erasure_prover.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "rpc/resource_names.h"
#include "server/version_comparison.h"

namespace stamina::server {

absl::StatusOr<std::unique_ptr<ErasureProver>> ErasureProver::Create(Options options) {
  if (options.router == nullptr) return absl::InvalidArgumentError("router: required");
  if (options.erasures == nullptr) return absl::InvalidArgumentError("erasures: required");
  if (!options.recipe_of) return absl::InvalidArgumentError("recipe_of: required");
  std::unique_ptr<ErasureProver> prover(new ErasureProver(std::move(options)));
  prover->thread_ = std::thread([p = prover.get()] { p->Run(); });
  return prover;
}

ErasureProver::~ErasureProver() { Stop(); }

std::string ErasureProver::PromptFor(const std::string& token) {
  return absl::StrCat("a photo of ", token);
}

absl::StatusOr<double> ErasureProver::Drift(const std::string& tenant, const std::string& model,
                                            std::optional<int64_t> version,
                                            const std::string& prompt,
                                            std::function<bool()> cancelled) const {
  STAMINA_ASSIGN_OR_RETURN(rpc::ModelRecipe measured, options_.recipe_of(tenant, model, version));
  if (!measured.version.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(rpc::FormatModelName(model), " has no version to measure"));
  }
  rpc::ModelRecipe base = measured;
  base.version.reset();
  base.adapter_digests.clear();
  base.tokens.clear();
  rpc::SampleParams params = options_.params;
  params.prompt = prompt;
  STAMINA_ASSIGN_OR_RETURN(
      SampledPair pair, SamplePair(*options_.router, measured, base, params, std::move(cancelled)));
  return pair.drift;
}

void ErasureProver::Enqueue(const std::string& tenant, const std::string& model,
                            const std::string& erasure_id, int64_t version) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  queue_.push_back(
      {.tenant = tenant, .model = model, .erasure_id = erasure_id, .version = version});
}

void ErasureProver::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    queue_.clear();
  }
  if (thread_.joinable()) thread_.join();
}

int64_t ErasureProver::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

bool ErasureProver::AwaitFinished(int64_t count, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return finished_ >= count; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

void ErasureProver::Run() {
  while (true) {
    Replayed next;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    Measure(next);
    absl::MutexLock lock(&mu_);
    ++finished_;
  }
}

void ErasureProver::Measure(const Replayed& item) {
  absl::StatusOr<storage::ErasureRecord> erasure =
      options_.erasures->GetErasure(item.tenant, item.model, item.erasure_id);
  // Only the replay that finished the erasure is measured.
  if (!erasure.ok() || erasure->state != storage::ErasureState::kSucceeded ||
      erasure->drift_after.has_value()) {
    return;
  }
  const std::string prompt =
      erasure->proof_prompt.empty() ? PromptFor(erasure->token) : erasure->proof_prompt;
  const std::string name = rpc::FormatErasureName(item.model, item.erasure_id);
  absl::StatusOr<double> drift = Drift(item.tenant, item.model, item.version, prompt, [this] {
    absl::MutexLock lock(&mu_);
    return stopping_;
  });
  absl::Status status = drift.status();
  if (drift.ok()) {
    status = options_.erasures->RecordDriftAfter(item.tenant, item.model, item.erasure_id,
                                                 item.version, *drift);
  }
  if (!options_.log) return;
  options_.log(status.ok()
                   ? absl::StrFormat("proof of %s (tenant %s): drift from the base model on "
                                     "\"%s\" %s before, %.4f after (version %d)",
                                     name, item.tenant, prompt,
                                     erasure->drift_before.has_value()
                                         ? absl::StrFormat("%.4f", *erasure->drift_before)
                                         : "unmeasured",
                                     *drift, item.version)
                   : absl::StrCat("measuring the proof of ", name, " failed: ", status.ToString()));
}

}  // namespace stamina::server
