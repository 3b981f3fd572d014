#include "server/page_tokens.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "storage/sha256.h"

namespace stamina::server {
namespace {

constexpr size_t kDigestHexChars = 16;  // 64 bits: enough to bind, short to show

// What a token is bound to: scope, request type and the request's fields
// without page_token (deterministic serialization).
std::string CallDigest(const google::protobuf::Message& request, absl::string_view scope) {
  std::unique_ptr<google::protobuf::Message> call(request.New());
  call->CopyFrom(request);
  const google::protobuf::FieldDescriptor* token =
      call->GetDescriptor()->FindFieldByName("page_token");
  if (token != nullptr) call->GetReflection()->ClearField(call.get(), token);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    call->SerializeToCodedStream(&coded);
  }
  return storage::Sha256Hex(
             absl::StrCat(scope, "\n", call->GetDescriptor()->full_name(), "\n", bytes))
      .substr(0, kDigestHexChars);
}

std::string TokenOf(const google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* token =
      request.GetDescriptor()->FindFieldByName("page_token");
  if (token == nullptr) return "";
  return request.GetReflection()->GetString(request, token);
}

}  // namespace

absl::StatusOr<std::string> PageCursorOf(const google::protobuf::Message& request,
                                         absl::string_view scope) {
  const std::string token = TokenOf(request);
  if (token.empty()) return std::string();
  const size_t dot = token.rfind('.');
  if (dot == std::string::npos || dot == 0 ||
      token.substr(dot + 1) != CallDigest(request, scope)) {
    return absl::InvalidArgumentError(
        "page_token: not the next_page_token of this call; a token continues only the list "
        "call that returned it, with the same parent, filters and page_size");
  }
  return token.substr(0, dot);
}

std::string NextPageToken(const google::protobuf::Message& request, absl::string_view scope,
                          absl::string_view cursor) {
  if (cursor.empty()) return "";
  return absl::StrCat(cursor, ".", CallDigest(request, scope));
}

}  // namespace stamina::server
