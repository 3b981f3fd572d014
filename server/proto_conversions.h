// File: server/proto_conversions.h
//
// storage records → stamina.v1 messages (and timestamps). Opaque blobs the
// registry stores for the API (job settings, version metrics) are serialized
// stamina.v1 messages and are parsed back here.
// Thread-safe: pure functions.
#ifndef STAMINA_SERVER_PROTO_CONVERSIONS_H_
#define STAMINA_SERVER_PROTO_CONVERSIONS_H_

#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "stamina/v1/concept.pb.h"
#include "stamina/v1/job.pb.h"
#include "stamina/v1/model.pb.h"
#include "storage/records.h"

namespace stamina::server {

google::protobuf::Timestamp ToTimestamp(absl::Time time);

v1::Model ToProto(const storage::ModelRecord& model);
v1::Concept ToProto(const storage::ConceptRecord& concept_record);
v1::Image ToProto(const storage::ImageRecord& image,
                  const storage::ConceptRecord& owner);
v1::ModelVersion ToProto(const storage::VersionRecord& version);
v1::Job ToProto(const storage::JobRecord& job);
v1::Lineage ToProto(const storage::ModelRecord& model,
                    const std::vector<storage::LineageStep>& steps);
v1::ErasureReport ToProto(const storage::ErasureReport& report);
v1::Erasure ToProto(const storage::ErasureRecord& erasure);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_PROTO_CONVERSIONS_H_
