#include "common/allocator.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina {
namespace {

// Sanitizers bring their own malloc, which shadows jemalloc's.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerMalloc = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitizerMalloc = true;
#else
constexpr bool kSanitizerMalloc = false;
#endif
#else
constexpr bool kSanitizerMalloc = false;
#endif

using ::testing::AllOf;
using ::testing::HasSubstr;

// This test links :jemalloc_config, as the service binaries do: jemalloc
// must serve malloc and have read the options compiled in.
TEST(AllocatorTest, ServiceBinariesRunJemallocWithTheirOptions) {
  if (kSanitizerMalloc) GTEST_SKIP() << "a sanitizer's malloc";
  ASSERT_TRUE(JemallocInUse()) << AllocatorDescription();
  if (std::getenv("MALLOC_CONF") != nullptr) GTEST_SKIP() << "MALLOC_CONF overrides the options";
  EXPECT_THAT(AllocatorDescription(),
              AllOf(HasSubstr("jemalloc 5."), HasSubstr("background_thread true"),
                    HasSubstr("dirty_decay_ms 1000"), HasSubstr("muzzy_decay_ms 0")));
}

// Resident pages of this process, in MiB (/proc/self/statm's second field).
double ResidentMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * sysconf(_SC_PAGESIZE) / (1 << 20);
}

TEST(AllocatorTest, ReleaseFreeMemoryReturnsFreedPagesToTheOs) {
  if (kSanitizerMalloc) GTEST_SKIP() << "a sanitizer's malloc quarantines freed memory";
  constexpr size_t kBytes = 96 << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);  // make every page resident
  const double with_block = ResidentMiB();
  block.reset();
  ReleaseFreeMemory();
  EXPECT_LT(ResidentMiB(), with_block - 64) << AllocatorDescription();
}

}  // namespace
}  // namespace stamina
