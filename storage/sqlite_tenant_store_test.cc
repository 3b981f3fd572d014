#include "storage/sqlite_tenant_store.h"

#include <fstream>
#include <sstream>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/test_registry.h"

namespace stamina::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(TenantStoreTest, CreateGetList) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  STAMINA_ASSERT_OK_AND_ASSIGN(TenantRecord acme,
                               r->tenants().CreateTenant("acme", "Acme Inc."));
  EXPECT_EQ(acme.display_name, "Acme Inc.");
  EXPECT_EQ(acme.create_time, r->clock().Now());
  STAMINA_ASSERT_OK(r->tenants().CreateTenant("beta", "").status());
  EXPECT_THAT(r->tenants().GetTenant("acme"),
              IsOkAndHolds(::testing::Field(&TenantRecord::display_name,
                                            "Acme Inc.")));
  EXPECT_EQ(r->tenants().ListTenants()->size(), 2u);
  EXPECT_THAT(r->tenants().CreateTenant("acme", ""),
              StatusCodeIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r->tenants().CreateTenant("Bad Id", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tenant_id")));
  EXPECT_THAT(r->tenants().GetTenant("ghost"),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST(TenantStoreTest, ErasurePolicyDefaultsToReplayAndCanBeSet) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  STAMINA_ASSERT_OK_AND_ASSIGN(TenantRecord acme, r->tenants().CreateTenant("acme", ""));
  EXPECT_EQ(acme.erasure_policy, ErasurePolicy::kReplay);
  STAMINA_ASSERT_OK_AND_ASSIGN(TenantRecord set,
                               r->tenants().SetErasurePolicy("acme", ErasurePolicy::kDropOnly));
  EXPECT_EQ(set.erasure_policy, ErasurePolicy::kDropOnly);
  EXPECT_EQ(r->tenants().GetTenant("acme")->erasure_policy, ErasurePolicy::kDropOnly);
  EXPECT_EQ(r->tenants().ListTenants()->front().erasure_policy, ErasurePolicy::kDropOnly);
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey key, r->tenants().CreateApiKey("acme"));
  EXPECT_EQ(r->tenants().ResolveApiKey(key.secret)->tenant.erasure_policy,
            ErasurePolicy::kDropOnly);
  EXPECT_THAT(r->tenants().SetErasurePolicy("ghost", ErasurePolicy::kReplay),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r->tenants().SetErasurePolicy("acme", static_cast<ErasurePolicy>(7)),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
}

TEST(TenantStoreTest, ApiKeysResolveUntilRevoked) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  STAMINA_ASSERT_OK(r->AddTenant("acme"));
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey key, r->tenants().CreateApiKey("acme"));
  EXPECT_THAT(key.secret, StartsWith("stk_"));
  EXPECT_EQ(key.secret.size(), 4u + 64u);
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey other,
                               r->tenants().CreateApiKey("acme"));
  EXPECT_NE(key.secret, other.secret);

  EXPECT_THAT(r->tenants().ResolveApiKey(key.secret),
              IsOkAndHolds(::testing::Field(&ResolvedApiKey::tenant,
                                            ::testing::Field(&TenantRecord::id, "acme"))));
  EXPECT_THAT(r->tenants().ResolveApiKey("stk_wrong"),
              StatusIs(absl::StatusCode::kNotFound, Not(HasSubstr("stk_"))));

  STAMINA_ASSERT_OK(r->tenants().RevokeApiKey("acme", key.key.id));
  STAMINA_ASSERT_OK(r->tenants().RevokeApiKey("acme", key.key.id));  // again
  EXPECT_THAT(r->tenants().ResolveApiKey(key.secret),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r->tenants().ResolveApiKey(other.secret), IsOk());

  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<ApiKeyRecord> keys,
                               r->tenants().ListApiKeys("acme"));
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_TRUE(keys[0].revoke_time.has_value());
  EXPECT_FALSE(keys[1].revoke_time.has_value());

  EXPECT_THAT(r->tenants().RevokeApiKey("acme", "nope"),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r->tenants().CreateApiKey("ghost"),
              StatusCodeIs(absl::StatusCode::kNotFound));
  // Another tenant cannot revoke acme's key.
  STAMINA_ASSERT_OK(r->AddTenant("mallory"));
  EXPECT_THAT(r->tenants().RevokeApiKey("mallory", other.key.id),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST(TenantStoreTest, KeysCarryALabelAndExpire) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create());
  STAMINA_ASSERT_OK(r->AddTenant("acme"));
  STAMINA_ASSERT_OK_AND_ASSIGN(
      NewApiKey ci, r->tenants().CreateApiKey("acme", {.label = "ci", .ttl = absl::Hours(1)}));
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey forever,
                               r->tenants().CreateApiKey("acme", {.label = "web"}));
  EXPECT_EQ(ci.key.label, "ci");
  ASSERT_TRUE(ci.key.expire_time.has_value());
  EXPECT_EQ(*ci.key.expire_time, ci.key.create_time + absl::Hours(1));
  EXPECT_FALSE(forever.key.expire_time.has_value());
  EXPECT_THAT(r->tenants().ResolveApiKey(ci.secret),
              IsOkAndHolds(::testing::Field(&ResolvedApiKey::expire_time, ci.key.expire_time)));
  EXPECT_THAT(r->tenants().ResolveApiKey(forever.secret),
              IsOkAndHolds(::testing::Field(&ResolvedApiKey::expire_time, std::nullopt)));
  r->clock().Advance(absl::Hours(1));
  EXPECT_THAT(r->tenants().ResolveApiKey(ci.secret),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("expired")));
  EXPECT_THAT(r->tenants().ResolveApiKey(forever.secret), IsOk());
  STAMINA_ASSERT_OK_AND_ASSIGN(std::vector<ApiKeyRecord> keys, r->tenants().ListApiKeys("acme"));
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].label, "ci");
  EXPECT_EQ(keys[0].expire_time, ci.key.expire_time);
  EXPECT_EQ(keys[1].label, "web");
  EXPECT_THAT(r->tenants().CreateApiKey("acme", {.label = std::string(201, 'x')}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("label")));
  EXPECT_THAT(r->tenants().CreateApiKey("acme", {.ttl = -absl::Seconds(1)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
}

TEST(TenantStoreTest, SecretsAreNeverStored) {
  STAMINA_ASSERT_OK_AND_ASSIGN(auto r, TestRegistry::Create({.file = "keys.db"}));
  STAMINA_ASSERT_OK(r->AddTenant("acme"));
  STAMINA_ASSERT_OK_AND_ASSIGN(NewApiKey key, r->tenants().CreateApiKey("acme"));
  STAMINA_ASSERT_OK(r->db().CheckIntegrity());
  std::string bytes;
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream file(r->path() + suffix, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    bytes += content.str();
  }
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(key.secret.substr(4)), std::string::npos);
}

}  // namespace
}  // namespace stamina::storage
