#include "rpc/tls_credentials.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stamina::rpc {
namespace {

absl::StatusOr<std::string> ReadPemFile(const std::string& field, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(field, ": cannot read ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (bytes.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", path, " is not PEM"));
  }
  return bytes.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const ServerTlsFiles& files) {
  if (files.cert_file.empty() && files.key_file.empty()) {
    return grpc::InsecureServerCredentials();
  }
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert_file, tls_key_file: set both for TLS, or neither");
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  STAMINA_ASSIGN_OR_RETURN(pair.cert_chain, ReadPemFile("tls_cert_file", files.cert_file));
  STAMINA_ASSIGN_OR_RETURN(pair.private_key, ReadPemFile("tls_key_file", files.key_file));
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const ClientTls& tls) {
  if (!tls.enabled && tls.ca_file.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!tls.ca_file.empty()) {
    STAMINA_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPemFile("tls_ca_file", tls.ca_file));
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace stamina::rpc
