#include "server/model_warmer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/resource_names.h"

namespace stamina::server {

absl::StatusOr<std::unique_ptr<ModelWarmer>> ModelWarmer::Create(Options options) {
  if (options.router == nullptr) return absl::InvalidArgumentError("router: required");
  if (!options.recipe_of) return absl::InvalidArgumentError("recipe_of: required");
  std::unique_ptr<ModelWarmer> warmer(new ModelWarmer(std::move(options)));
  warmer->thread_ = std::thread([w = warmer.get()] { w->Run(); });
  return warmer;
}

ModelWarmer::~ModelWarmer() { Stop(); }

void ModelWarmer::Enqueue(Version version) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const bool older = it->tenant_id == version.tenant_id &&
                       it->model_id == version.model_id && it->version < version.version;
    it = older ? queue_.erase(it) : std::next(it);
  }
  queue_.push_back(std::move(version));
}

void ModelWarmer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    queue_.clear();
  }
  if (thread_.joinable()) thread_.join();
}

int64_t ModelWarmer::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

bool ModelWarmer::AwaitFinished(int64_t count, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return finished_ >= count;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

void ModelWarmer::Run() {
  while (true) {
    Version next;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    WarmOne(next);
    absl::MutexLock lock(&mu_);
    ++finished_;
  }
}

void ModelWarmer::WarmOne(const Version& version) {
  const std::string name = rpc::FormatVersionName(version.model_id, version.version);
  const absl::Time start = absl::Now();
  absl::StatusOr<rpc::ModelRecipe> recipe = options_.recipe_of(version);
  const absl::Status status =
      recipe.ok() ? options_.router->Warm(*recipe,
                                          [this] {
                                            absl::MutexLock lock(&mu_);
                                            return stopping_;
                                          })
                  : recipe.status();
  if (!options_.log) return;
  options_.log(status.ok() ? absl::StrCat("warmed ", name, " of tenant ", version.tenant_id,
                                          " in ", absl::FormatDuration(absl::Now() - start))
                           : absl::StrCat("warming ", name, " of tenant ", version.tenant_id,
                                          " failed (its first Sample builds it): ",
                                          status.ToString()));
}

}  // namespace stamina::server
