#include "server/device_directory.h"

#include "common/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/sample_messages.h"

namespace stamina::server {
namespace {

rpc::ComputeDeviceReport Gpu(const std::string& device) {
  return {.role = rpc::kTrainingRole,
          .device = device,
          .description = "NVIDIA H200",
          .memory_bytes = int64_t{141} << 30,
          .compute_dtype = "bf16"};
}

TEST(DeviceDirectoryTest, ReportsExpireUnlessRenewedAndPermanentOnesStay) {
  FakeClock clock;
  DeviceDirectory directory(&clock, absl::Minutes(2));
  directory.AddPermanent("staminad", {.role = rpc::kTrainingRole,
                                      .device = "cpu",
                                      .description = "2 cores",
                                      .compute_dtype = "fp32"});
  directory.Report("worker-a", Gpu("cuda:0"));
  directory.Report("worker-b", Gpu("cuda:0"));
  EXPECT_EQ(directory.Current().size(), 3u);

  clock.Advance(absl::Seconds(90));
  directory.Report("worker-a", Gpu("cuda:0"));  // renewed; b is not
  clock.Advance(absl::Seconds(60));
  const std::vector<rpc::ComputeDeviceReport> current = directory.Current();
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].device, "cpu");     // staminad (by process name)
  EXPECT_EQ(current[1].device, "cuda:0");  // worker-a

  // The same device counted per process, as GetCapabilities shows it.
  directory.Report("worker-c", Gpu("cuda:0"));
  const std::vector<v1::ComputeDevice> counted = rpc::CountDevices(directory.Current());
  ASSERT_EQ(counted.size(), 2u);
  EXPECT_EQ(counted[0].device(), "cpu");
  EXPECT_EQ(counted[0].processes(), 1);
  EXPECT_EQ(counted[1].device(), "cuda:0");
  EXPECT_EQ(counted[1].processes(), 2);
  EXPECT_EQ(counted[1].memory_bytes(), int64_t{141} << 30);

  // A permanent entry is not overwritten by a report under its name.
  directory.Report("staminad", Gpu("cuda:1"));
  bool cpu_present = false;
  for (const auto& device : directory.Current()) cpu_present |= device.device == "cpu";
  EXPECT_TRUE(cpu_present);
}

}  // namespace
}  // namespace stamina::server
