#include "server/device_directory.h"

namespace stamina::server {

void DeviceDirectory::Report(const std::string& process, const rpc::ComputeDeviceReport& device) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_[process];
  if (entry.permanent) return;
  entry.device = device;
  entry.seen = now;
}

void DeviceDirectory::AddPermanent(const std::string& process,
                                   const rpc::ComputeDeviceReport& device) {
  absl::MutexLock lock(&mu_);
  entries_[process] = {.device = device, .seen = absl::InfiniteFuture(), .permanent = true};
}

std::vector<rpc::ComputeDeviceReport> DeviceDirectory::Current() const {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  std::vector<rpc::ComputeDeviceReport> current;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.permanent && now - it->second.seen > ttl_) {
      it = entries_.erase(it);  // the worker left: forget it
      continue;
    }
    current.push_back(it->second.device);
    ++it;
  }
  return current;
}

std::vector<rpc::ComputeDeviceReport> ServingDevices(const DeviceDirectory* training,
                                                     const rpc::SampleRouter* sampling) {
  std::vector<rpc::ComputeDeviceReport> devices;
  if (training != nullptr) devices = training->Current();
  if (sampling != nullptr) {
    for (const rpc::ComputeDeviceReport& device : sampling->Devices()) devices.push_back(device);
  }
  return devices;
}

}  // namespace stamina::server
