#include "server/upload_session.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "images/image_decoder.h"
#include "rpc/resource_names.h"
#include "server/display_text.h"
#include "server/proto_conversions.h"
#include "storage/sha256.h"

namespace stamina::server {
namespace {

// The part of a client's file name kept (escaped) for records.
constexpr size_t kMaxOriginalFileNameBytes = 1024;

}  // namespace

std::string UploadSession::Label(const Pending& image) const {
  return absl::StrCat("images[", image.index, "] (\"", image.filename.substr(0, 100),
                      "\")");
}

absl::Status UploadSession::Accept(const v1::UploadImagesRequest& message) {
  switch (message.part_case()) {
    case v1::UploadImagesRequest::kHeader:
      return StartHeader(message.header());
    case v1::UploadImagesRequest::kImageStart:
      if (!has_header_) {
        return absl::InvalidArgumentError("header: must be the first message");
      }
      return StartImage(message.image_start());
    case v1::UploadImagesRequest::kChunk:
      if (!has_header_) {
        return absl::InvalidArgumentError("header: must be the first message");
      }
      return AddChunk(message.chunk());
    case v1::UploadImagesRequest::PART_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("part: each message needs one of header, "
                                    "image_start, chunk");
}

absl::Status UploadSession::StartHeader(
    const v1::UploadImagesRequest::Header& header) {
  if (has_header_) return absl::InvalidArgumentError("header: sent twice");
  STAMINA_ASSIGN_OR_RETURN(rpc::ConceptName name,
                           rpc::ParseConceptName(header.parent(), "header.parent"));
  STAMINA_ASSIGN_OR_RETURN(
      storage::ConceptRecord concept_record,
      ctx_->models->GetConcept(tenant_, name.model, name.concept_id));
  if (concept_record.state != storage::ConceptState::kDraft) {
    return absl::FailedPreconditionError(absl::StrCat(
        header.parent(), " is no longer DRAFT; its images are frozen"));
  }
  has_header_ = true;
  skip_invalid_ = header.skip_invalid();
  model_ = name.model;
  concept_id_ = name.concept_id;
  return absl::OkStatus();
}

absl::Status UploadSession::StartImage(
    const v1::UploadImagesRequest::ImageStart& start) {
  STAMINA_RETURN_IF_ERROR(CloseImage());
  Pending image{.index = next_index_++,
                .filename = SafeFileName(start.filename()),
                .original_filename = absl::CHexEscape(
                    absl::string_view(start.filename()).substr(0, kMaxOriginalFileNameBytes)),
                .caption = start.caption(),
                .size_bytes = start.size_bytes(),
                .sha256 = start.sha256()};
  // An empty file is not a stream error: it fails decoding like any other
  // bad image (REJECTED under skip_invalid).
  if (image.size_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Label(image), ": image_start.size_bytes must be >= 0"));
  }
  if (image.size_bytes > ctx_->limits.max_image_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        Label(image), ": ", image.size_bytes, " bytes; the limit per image is ",
        ctx_->limits.max_image_bytes));
  }
  if (!image.caption.empty()) {
    absl::Status caption = CheckCaption(image.caption, "image_start.caption");
    if (!caption.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(Label(image), ": ", caption.message()));
    }
  }
  if (!image.sha256.empty() && !storage::IsSha256Hex(image.sha256)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Label(image), ": image_start.sha256 is not 64 lowercase hex characters"));
  }
  image.bytes.reserve(static_cast<size_t>(image.size_bytes));
  current_ = std::move(image);
  return absl::OkStatus();
}

absl::Status UploadSession::AddChunk(const std::string& chunk) {
  if (!current_.has_value()) {
    return absl::InvalidArgumentError("chunk: arrived before any image_start");
  }
  if (chunk.size() > kMaxChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        Label(*current_), ": chunks are at most ", kMaxChunkBytes, " bytes"));
  }
  request_bytes_ += static_cast<int64_t>(chunk.size());
  if (request_bytes_ > ctx_->limits.max_upload_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the request carries more than ", ctx_->limits.max_upload_bytes,
        " bytes; upload in several calls"));
  }
  if (static_cast<int64_t>(current_->bytes.size() + chunk.size()) >
      current_->size_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        Label(*current_), ": more bytes than image_start.size_bytes (",
        current_->size_bytes, ")"));
  }
  current_->bytes += chunk;
  return absl::OkStatus();
}

absl::Status UploadSession::CloseImage() {
  if (!current_.has_value()) return absl::OkStatus();
  Pending image = std::move(*current_);
  current_.reset();
  if (static_cast<int64_t>(image.bytes.size()) != image.size_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        Label(image), ": announced ", image.size_bytes, " bytes, received ",
        image.bytes.size()));
  }
  const std::string digest = storage::Sha256Hex(image.bytes);
  absl::Status verdict;
  if (!image.sha256.empty() && image.sha256 != digest) {
    verdict = absl::InvalidArgumentError("image_start.sha256: does not match the bytes");
  }
  absl::StatusOr<images::DecodedImage> decoded = absl::InternalError("not decoded");
  if (verdict.ok()) {
    decoded = images::DecodeImage(image.bytes,
                          {.max_bytes = ctx_->limits.max_image_bytes,
                           .max_pixels = ctx_->limits.max_image_pixels,
                           .min_side = ctx_->limits.min_image_side});
    verdict = decoded.status();
  }
  if (!verdict.ok()) {
    if (!skip_invalid_ || absl::IsResourceExhausted(verdict)) {
      return absl::Status(verdict.code(),
                          absl::StrCat(Label(image), ": ", verdict.message()));
    }
    v1::ImageUploadResult rejected;
    rejected.set_index(image.index);
    rejected.set_filename(image.filename);
    rejected.set_outcome(v1::ImageUploadResult::OUTCOME_REJECTED);
    rejected.set_rejection_reason(std::string(verdict.message()));
    rejected_.push_back(std::move(rejected));
    return absl::OkStatus();
  }
  Verified ok{.index = image.index, .bytes = std::move(image.bytes)};
  ok.record = {.digest = digest,
               .format = decoded->format,
               .width = decoded->width,
               .height = decoded->height,
               .size_bytes = image.size_bytes,
               .filename = image.filename,
               .original_filename = image.original_filename,
               .caption = image.caption};
  verified_.push_back(std::move(ok));
  return absl::OkStatus();
}

absl::StatusOr<v1::UploadImagesResponse> UploadSession::Finish() {
  if (!has_header_) {
    return absl::InvalidArgumentError("header: the stream carried no header");
  }
  STAMINA_RETURN_IF_ERROR(CloseImage());
  STAMINA_ASSIGN_OR_RETURN(storage::ConceptRecord concept_record,
                           ctx_->models->GetConcept(tenant_, model_, concept_id_));
  // Every image's bytes are stored, then all rows go in at once: the
  // concept's image limit is checked in that transaction, and a refusal
  // attaches none. The digests stay pinned from storing the bytes until the
  // rows commit, so a concurrent delete of the same bytes cannot unlink them
  // in between (a refused upload leaves them to the blob sweep).
  std::vector<storage::ImageRecord> records;
  std::vector<std::string> digests;
  for (const Verified& image : verified_) {
    records.push_back(image.record);
    digests.push_back(image.record.digest);
  }
  const storage::BlobCollector::Pin pin = ctx_->blob_collector->PinDigests(digests);
  for (const Verified& image : verified_) {
    STAMINA_RETURN_IF_ERROR(ctx_->blobs->Put(image.bytes).status());
  }
  STAMINA_ASSIGN_OR_RETURN(std::vector<storage::AddedImage> added,
                           ctx_->models->AddImages(tenant_, model_, concept_id_, records));
  v1::UploadImagesResponse response;
  std::vector<v1::ImageUploadResult> results = rejected_;
  for (size_t i = 0; i < verified_.size(); ++i) {
    v1::ImageUploadResult result;
    result.set_index(verified_[i].index);
    result.set_filename(verified_[i].record.filename);
    result.set_outcome(added[i].created ? v1::ImageUploadResult::OUTCOME_CREATED
                                        : v1::ImageUploadResult::OUTCOME_DUPLICATE);
    *result.mutable_image() = ToProto(added[i].image, concept_record);
    results.push_back(std::move(result));
  }
  std::sort(results.begin(), results.end(),
            [](const auto& a, const auto& b) { return a.index() < b.index(); });
  for (auto& result : results) *response.add_results() = std::move(result);
  STAMINA_ASSIGN_OR_RETURN(
      storage::ConceptRecord after,
      ctx_->models->GetConcept(tenant_, model_, concept_id_));
  response.set_image_count(after.image_count);
  return response;
}

}  // namespace stamina::server
