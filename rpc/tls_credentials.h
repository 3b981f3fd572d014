// File: rpc/tls_credentials.h
//
// The gRPC credentials of every Stamina binary, built from the TLS settings
// their flags name, in one place: a server's listener (staminad,
// stamina-sampler: a PEM certificate chain and key, or plaintext) and a
// client's channel (stamina-worker and stamina-sampler to staminad, staminad
// to its sampler replicas, the stamina CLI: TLS trusting a PEM CA or the
// system's roots, or plaintext). Errors name the option (not the flag) and
// the file.
//
// Thread-safe: functions of their arguments (and the files they read).
#ifndef STAMINA_RPC_TLS_CREDENTIALS_H_
#define STAMINA_RPC_TLS_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace stamina::rpc {

// A listener's TLS: PEM files of the certificate chain and private key.
struct ServerTlsFiles {
  std::string cert_file;
  std::string key_file;
};

// TLS when both files are set, plaintext when neither is. INVALID_ARGUMENT
// when only one is set or a file is not PEM, NOT_FOUND when one cannot be
// read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const ServerTlsFiles& files);

// A client's TLS.
struct ClientTls {
  // TLS, trusting the system's CA certificates.
  bool enabled = false;
  // TLS, trusting this PEM CA certificate (implies `enabled`).
  std::string ca_file;
};

// TLS when `tls` asks for it, plaintext otherwise. NOT_FOUND when the CA
// file cannot be read, INVALID_ARGUMENT when it is not PEM.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const ClientTls& tls);

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_TLS_CREDENTIALS_H_
