// File: server/device_directory.h
//
// DeviceDirectory: which training devices serve this deployment, for
// GetCapabilities and the metrics. Remote workers report theirs with every
// LeaseJob (a worker long-polls, so a live one reports at least every
// `max_wait`); a report not renewed within `ttl` is dropped, so a worker
// that left stops being counted. The in-process worker's device is
// registered once and never expires. Sampling devices come from the
// SampleRouter (rpc::SampleRouter::Devices), not from here.
//
// Thread-safe.
#ifndef STAMINA_SERVER_DEVICE_DIRECTORY_H_
#define STAMINA_SERVER_DEVICE_DIRECTORY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "rpc/sample_router.h"

namespace stamina::server {

class DeviceDirectory {
 public:
  // `clock` is not owned and must outlive the directory.
  DeviceDirectory(Clock* clock, absl::Duration ttl) : clock_(clock), ttl_(ttl) {}

  // `process` (a worker's name) trains on `device` as of now.
  void Report(const std::string& process, const rpc::ComputeDeviceReport& device);

  // `process` trains on `device` for as long as this directory lives.
  void AddPermanent(const std::string& process, const rpc::ComputeDeviceReport& device);

  // One entry per process whose report is current (permanent, or renewed
  // within the ttl), by process name.
  std::vector<rpc::ComputeDeviceReport> Current() const;

 private:
  struct Entry {
    rpc::ComputeDeviceReport device;
    absl::Time seen;
    bool permanent = false;
  };

  Clock* const clock_;
  const absl::Duration ttl_;
  mutable absl::Mutex mu_;
  mutable std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// Every device serving now, one entry per process: the training devices in
// `training` and the sampling devices `sampling` knows (either may be null).
// What GetCapabilities and the metrics count (rpc::CountDevices).
std::vector<rpc::ComputeDeviceReport> ServingDevices(const DeviceDirectory* training,
                                                     const rpc::SampleRouter* sampling);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_DEVICE_DIRECTORY_H_
