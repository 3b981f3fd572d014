// File: server/upload_session.h
//
// One UploadImages stream, gRPC-free: the messages arrive through Accept()
// (header, then image_start + chunks per image) and Finish() commits. Every
// image is checked as it completes (announced size, optional SHA-256, format
// from the bytes, dimensions from the header before decoding, one full
// decode); nothing is stored until the whole stream is valid, unless the
// client asked to skip invalid images. Errors name the image:
// `images[3] ("cat.heic"): ...`. Byte caps per image and per request are
// RESOURCE_EXHAUSTED.
//
// Not thread-safe: one session per call.
#ifndef STAMINA_SERVER_UPLOAD_SESSION_H_
#define STAMINA_SERVER_UPLOAD_SESSION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/service_context.h"
#include "stamina/v1/concept_service.pb.h"
#include "storage/records.h"

namespace stamina::server {

class UploadSession {
 public:
  // The most bytes one chunk may carry.
  static constexpr size_t kMaxChunkBytes = 1 << 20;

  UploadSession(const ServiceContext* context, std::string tenant)
      : ctx_(context), tenant_(std::move(tenant)) {}

  absl::Status Accept(const v1::UploadImagesRequest& message);
  absl::StatusOr<v1::UploadImagesResponse> Finish();

 private:
  struct Pending {
    int index = 0;
    std::string filename;           // safe display form
    std::string original_filename;  // C-escaped as sent
    std::string caption;
    int64_t size_bytes = 0;
    std::string sha256;
    std::string bytes;
  };
  struct Verified {
    int index = 0;
    std::string bytes;
    storage::ImageRecord record;
  };

  absl::Status StartHeader(const v1::UploadImagesRequest::Header& header);
  absl::Status StartImage(const v1::UploadImagesRequest::ImageStart& start);
  absl::Status AddChunk(const std::string& chunk);
  // Verifies the image in progress, if any.
  absl::Status CloseImage();
  std::string Label(const Pending& image) const;

  const ServiceContext* const ctx_;
  const std::string tenant_;
  bool has_header_ = false;
  bool skip_invalid_ = false;
  std::string model_;
  std::string concept_id_;
  int64_t request_bytes_ = 0;
  int next_index_ = 0;
  std::optional<Pending> current_;
  std::vector<Verified> verified_;
  std::vector<v1::ImageUploadResult> rejected_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_UPLOAD_SESSION_H_
