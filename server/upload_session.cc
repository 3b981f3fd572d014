#include "server/upload_session.h"

#include <algorithm>
#include <set>

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
  STAMINA_ASSIGN_OR_RETURN(std::vector<storage::ImageRecord> existing,
                           ctx_->models->ListImages(tenant_, model_, concept_id_));
  std::set<std::string> digests;
  for (const auto& image : existing) digests.insert(image.digest);
  for (const auto& image : verified_) digests.insert(image.record.digest);
  if (static_cast<int>(digests.size()) > ctx_->limits.max_images_per_concept) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the concept would have ", digests.size(), " images; the limit is ",
        ctx_->limits.max_images_per_concept));
  }
  v1::UploadImagesResponse response;
  std::vector<v1::ImageUploadResult> results = rejected_;
  for (const Verified& image : verified_) {
    // Pinned from storing the bytes until the row commits, so a concurrent
    // delete of the same digest cannot unlink them in between.
    storage::BlobCollector::Pin pin = ctx_->blob_collector->PinDigest(image.record.digest);
    STAMINA_RETURN_IF_ERROR(ctx_->blobs->Put(image.bytes).status());
    STAMINA_ASSIGN_OR_RETURN(
        storage::AddedImage added,
        ctx_->models->AddImage(tenant_, model_, concept_id_, image.record));
    v1::ImageUploadResult result;
    result.set_index(image.index);
    result.set_filename(image.record.filename);
    result.set_outcome(added.created ? v1::ImageUploadResult::OUTCOME_CREATED
                                     : v1::ImageUploadResult::OUTCOME_DUPLICATE);
    *result.mutable_image() = ToProto(added.image, concept_record);
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
