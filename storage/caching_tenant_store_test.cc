#include "storage/caching_tenant_store.h"

#include <functional>
#include <utility>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::HasSubstr;

// The real SQLite store, with a hook run between its read and the return, to
// put a revocation inside a resolution deterministically.
class HookedTenantStore final : public TenantStore {
 public:
  explicit HookedTenantStore(TenantStore* inner) : inner_(inner) {}
  std::function<void()> after_read;
  int reads = 0;

  absl::StatusOr<TenantRecord> CreateTenant(const std::string& id,
                                            const std::string& name) override {
    return inner_->CreateTenant(id, name);
  }
  absl::StatusOr<TenantRecord> GetTenant(const std::string& id) override {
    return inner_->GetTenant(id);
  }
  absl::StatusOr<std::vector<TenantRecord>> ListTenants() override { return inner_->ListTenants(); }
  absl::StatusOr<TenantRecord> SetErasurePolicy(const std::string& id,
                                                ErasurePolicy policy) override {
    return inner_->SetErasurePolicy(id, policy);
  }
  using TenantStore::CreateApiKey;
  absl::StatusOr<NewApiKey> CreateApiKey(const std::string& tenant_id,
                                         const ApiKeySpec& spec) override {
    return inner_->CreateApiKey(tenant_id, spec);
  }
  absl::StatusOr<ResolvedApiKey> ResolveApiKey(const std::string& secret) override {
    ++reads;
    auto resolved = inner_->ResolveApiKey(secret);
    if (after_read) std::exchange(after_read, nullptr)();
    return resolved;
  }
  absl::Status RevokeApiKey(const std::string& tenant_id, const std::string& key_id) override {
    return inner_->RevokeApiKey(tenant_id, key_id);
  }
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(const std::string& tenant_id) override {
    return inner_->ListApiKeys(tenant_id);
  }

 private:
  TenantStore* const inner_;
};

class CachingTenantStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = TestRegistry::Create();
    ASSERT_THAT(registry, IsOk());
    r_ = std::move(*registry);
    hooked_ = std::make_unique<HookedTenantStore>(&r_->tenants());
    auto cache = CachingTenantStore::Create(
        {.inner = hooked_.get(), .clock = &r_->clock(), .ttl = absl::Seconds(5)});
    ASSERT_THAT(cache, IsOk());
    cache_ = std::move(*cache);
    ASSERT_THAT(r_->AddTenant("acme"), IsOk());
  }

  std::unique_ptr<TestRegistry> r_;
  std::unique_ptr<HookedTenantStore> hooked_;
  std::unique_ptr<CachingTenantStore> cache_;
};

TEST_F(CachingTenantStoreTest, RepeatedResolutionsAreServedFromTheCacheForTheTtl) {
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey key, cache_->CreateApiKey("acme"));
  for (int i = 0; i < 3; ++i) {
    STAMINA_ASSERT_OK_AND_ASSIGN(ResolvedApiKey resolved, cache_->ResolveApiKey(key.secret));
    EXPECT_EQ(resolved.tenant.id, "acme");
  }
  EXPECT_EQ(hooked_->reads, 1);
  EXPECT_EQ(cache_->counts().hits, 2);
  r_->clock().Advance(absl::Seconds(5));
  STAMINA_ASSERT_OK(cache_->ResolveApiKey(key.secret).status());
  EXPECT_EQ(hooked_->reads, 2);
}

TEST_F(CachingTenantStoreTest, ARevocationHoldsForTheNextCall) {
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey key, cache_->CreateApiKey("acme"));
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey other, cache_->CreateApiKey("acme"));
  STAMINA_ASSERT_OK(cache_->ResolveApiKey(key.secret).status());
  STAMINA_ASSERT_OK(cache_->ResolveApiKey(other.secret).status());
  STAMINA_ASSERT_OK(cache_->RevokeApiKey("acme", key.key.id));
  EXPECT_THAT(cache_->ResolveApiKey(key.secret), StatusCodeIs(absl::StatusCode::kNotFound));
  STAMINA_ASSERT_OK(cache_->ResolveApiKey(other.secret).status());
  EXPECT_THAT(cache_->RevokeApiKey("acme", "no-such-key"),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

// A resolution that read the registry before a revocation committed answers
// its own call, but must not leave that answer in the cache.
TEST_F(CachingTenantStoreTest, ARevocationDuringAResolutionIsNotCachedOver) {
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey key, cache_->CreateApiKey("acme"));
  hooked_->after_read = [&] { ASSERT_THAT(cache_->RevokeApiKey("acme", key.key.id), IsOk()); };
  STAMINA_ASSERT_OK(cache_->ResolveApiKey(key.secret).status());  // read before the revoke
  EXPECT_THAT(cache_->ResolveApiKey(key.secret), StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(cache_->counts().hits, 0);
}

TEST_F(CachingTenantStoreTest, AKeysExpiryIsExact) {
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey key,
                               cache_->CreateApiKey("acme", {.ttl = absl::Seconds(3)}));
  STAMINA_ASSERT_OK(cache_->ResolveApiKey(key.secret).status());
  r_->clock().Advance(absl::Milliseconds(2999));
  STAMINA_ASSERT_OK(cache_->ResolveApiKey(key.secret).status());
  EXPECT_EQ(cache_->counts().hits, 1);
  r_->clock().Advance(absl::Milliseconds(1));
  EXPECT_THAT(cache_->ResolveApiKey(key.secret),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("expired")));
}

TEST_F(CachingTenantStoreTest, UnknownKeysAreNeverCached) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(cache_->ResolveApiKey("stk_wrong"), StatusCodeIs(absl::StatusCode::kNotFound));
  }
  EXPECT_EQ(hooked_->reads, 3);
  EXPECT_EQ(cache_->counts().hits, 0);
}

TEST_F(CachingTenantStoreTest, AFullCacheStartsOver) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      auto small, CachingTenantStore::Create(
                      {.inner = hooked_.get(), .clock = &r_->clock(), .max_entries = 2}));
  std::vector<std::string> secrets;
  for (int i = 0; i < 3; ++i) {
    STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey key, small->CreateApiKey("acme"));
    secrets.push_back(key.secret);
    STAMINA_ASSERT_OK(small->ResolveApiKey(key.secret).status());
  }
  STAMINA_ASSERT_OK(small->ResolveApiKey(secrets[2]).status());  // kept
  STAMINA_ASSERT_OK(small->ResolveApiKey(secrets[0]).status());  // dropped when full
  EXPECT_EQ(small->counts().hits, 1);
  EXPECT_EQ(small->counts().misses, 4);
}

TEST(CachingTenantStoreOptionsTest, NamesTheBadOption) {
  FakeClock clock;
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  EXPECT_THAT(CachingTenantStore::Create({.clock = &clock}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inner")));
  EXPECT_THAT(CachingTenantStore::Create(
                  {.inner = &r->tenants(), .clock = &clock, .ttl = absl::ZeroDuration()}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  EXPECT_THAT(
      CachingTenantStore::Create({.inner = &r->tenants(), .clock = &clock, .max_entries = 0}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_entries")));
}

}  // namespace
}  // namespace stamina::storage
