#include "bench/oracle_file.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace stamina::bench {
namespace {

// Sets an environment variable for one test, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(OracleCachePathTest, NamedByStepsAndRecipeInTheMachinesCache) {
  const std::string file = absl::StrCat("/oracle-6000-r", kOracleRecipe, ".safetensors");
  {
    ScopedEnv cache("STAMINA_CACHE_DIR", "/c");
    EXPECT_EQ(OracleCachePath(6000), "/c" + file);
    EXPECT_NE(OracleCachePath(1500), OracleCachePath(6000));
  }
  ScopedEnv cache("STAMINA_CACHE_DIR", nullptr);
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/x");
    EXPECT_EQ(OracleCachePath(6000), "/x/stamina" + file);
  }
  ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
  {
    ScopedEnv home("HOME", "/h");
    EXPECT_EQ(OracleCachePath(6000), "/h/.cache/stamina" + file);
  }
  ScopedEnv home("HOME", nullptr);
  EXPECT_EQ(OracleCachePath(6000), "/tmp/stamina-cache" + file);
}

}  // namespace
}  // namespace stamina::bench
