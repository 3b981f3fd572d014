// stamina: the command-line client of the Stamina public API. Flags are
// parsed here only; the commands live in cli/commands.h.
//
//   stamina --server=127.0.0.1:7070 --api_key=stk_... models create family
//   STAMINA_API_KEY=stk_... stamina upload family anna ./photos/anna
//   stamina train family anna --steps=400
//
// Flags may come before or after the command words. `--version=N` (sample)
// is accepted as a spelling of --sample_version, since Abseil reserves
// --version for itself.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "rpc/internal_auth.h"
#include "rpc/tls_credentials.h"

ABSL_FLAG(
    std::string, server, "",
    "Server address host:port; default env STAMINA_SERVER or 127.0.0.1:7070");
ABSL_FLAG(std::string, api_key, "", "API key; default env STAMINA_API_KEY");
ABSL_FLAG(bool, tls, false,
          "Connect over TLS, trusting the system's CA certificates; default env "
          "STAMINA_TLS=1");
ABSL_FLAG(std::string, tls_ca, "",
          "Connect over TLS, trusting this PEM CA certificate (implies --tls); "
          "default env STAMINA_TLS_CA");
ABSL_FLAG(std::string, tls_server_name, "",
          "TLS: the name the server's certificate must carry (default: the "
          "host of --server)");
ABSL_FLAG(int32_t, timeout_seconds, 60,
          "Deadline of each unary call and upload");
ABSL_FLAG(std::string, base, "",
          "models create: base model (default: the server's first)");
ABSL_FLAG(std::string, display_name, "", "models create: display name");
ABSL_FLAG(std::string, caption, "",
          "concepts create: caption template, {} = the token");
ABSL_FLAG(bool, force, false,
          "concepts delete: also delete versions containing it");
ABSL_FLAG(bool, skip_invalid, false,
          "upload: store the valid images, report the rest");
ABSL_FLAG(int32_t, steps, 0, "train, sample: steps (0 = server default)");
ABSL_FLAG(std::string, method, "",
          "train: stamina, clora or lora (default stamina)");
ABSL_FLAG(std::string, context, "",
          "train: none, project or penalize: how prompts without the token are "
          "kept unchanged (default: the method's; project for stamina)");
ABSL_FLAG(std::string, augment, "",
          "train: random changes to the training images: flip,shift (the default), flip, "
          "shift or none (e.g. shift off for centred portraits)");
ABSL_FLAG(std::string, token_initializer, "",
          "train: a word of the base model's vocabulary naming what the concept is "
          "(e.g. face, dog): the token starts from it");
ABSL_FLAG(std::string, settings, "",
          "train: more TrainingSettings in protobuf text format, e.g. "
          "'stamina { overlap: MASK_OVERLAP_EXCLUSIVE } context_energy: 0.99'");
ABSL_FLAG(int64_t, seed, 0, "train, sample: seed (0 = server picks)");
ABSL_FLAG(std::string, request_id, "", "train, concepts erase: idempotency key");
ABSL_FLAG(bool, no_wait, false,
          "train, concepts erase: return once the job (the replay jobs) are queued");
ABSL_FLAG(std::string, mode, "",
          "concepts erase: replay (retrain the later concepts without it) or drop (they "
          "become DRAFT again); default: the account's erasure policy (replay unless set)");
ABSL_FLAG(std::string, webhook_url, "",
          "train, models create: where the job's (the model's jobs') state changes are POSTed");
ABSL_FLAG(bool, rotate, false, "webhooks secret: replace the secret and print the new one");
ABSL_FLAG(std::string, prompt, "", "sample: the prompt");
ABSL_FLAG(int64_t, sample_version, 0,
          "sample: version number (0 = head); also --version");
ABSL_FLAG(int32_t, count, 0, "sample: number of images (0 = 1)");
ABSL_FLAG(double, guidance, 0,
          "sample: guidance scale (0 = base model default)");
ABSL_FLAG(std::string, out, ".", "sample, export: output directory");
ABSL_FLAG(std::string, sampler, "", "sample: ddim, pndm or euler (empty: ddim)");
ABSL_FLAG(std::string, format, "diffusers",
          "export: diffusers (a folder with the concepts folded in) or adapters");
ABSL_FLAG(bool, half, false, "export: store the weights as 16-bit floats");
ABSL_FLAG(std::string, label, "", "admin keys create: what the key is for");
ABSL_FLAG(int64_t, ttl_hours, 0, "admin keys create: expire after N hours (0: never)");
ABSL_FLAG(int, keep, 0, "admin backup: keep the newest N registry backups (0: all)");
ABSL_FLAG(std::string, admin_token_file, "",
          "admin commands: file (mode 600) with an admin internal token; default env "
          "STAMINA_ADMIN_TOKEN");

namespace {

// Abseil owns --version; rewrite it to --sample_version before parsing.
std::vector<char*> RewriteVersionFlag(int argc, char** argv,
                                      std::vector<std::string>& store) {
  store.reserve(static_cast<size_t>(argc));
  std::vector<char*> out;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (; i < argc; ++i) store.push_back(argv[i]);
      break;
    }
    for (const char* prefix : {"--version", "-version"}) {
      const size_t n = std::strlen(prefix);
      if (arg.compare(0, n, prefix) == 0 &&
          (arg.size() == n || arg[n] == '=')) {
        arg = "--sample_version" + arg.substr(n);
        break;
      }
    }
    store.push_back(arg);
  }
  for (std::string& arg : store) out.push_back(arg.data());
  return out;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(stamina::cli::Usage());
  std::vector<std::string> store;
  std::vector<char*> args = RewriteVersionFlag(argc, argv, store);
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  std::vector<std::string> words(positional.begin() + 1, positional.end());

  stamina::cli::CliOptions options;
  options.api_key = absl::GetFlag(FLAGS_api_key);
  if (options.api_key.empty()) options.api_key = EnvOr("STAMINA_API_KEY", "");
  options.progress_tty = isatty(STDERR_FILENO) != 0;
  options.rpc_timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout_seconds));
  stamina::cli::CommandFlags& flags = options.flags;
  flags.base_model = absl::GetFlag(FLAGS_base);
  flags.display_name = absl::GetFlag(FLAGS_display_name);
  flags.caption = absl::GetFlag(FLAGS_caption);
  flags.force = absl::GetFlag(FLAGS_force);
  flags.mode = absl::GetFlag(FLAGS_mode);
  flags.skip_invalid = absl::GetFlag(FLAGS_skip_invalid);
  flags.steps = absl::GetFlag(FLAGS_steps);
  flags.method = absl::GetFlag(FLAGS_method);
  flags.context = absl::GetFlag(FLAGS_context);
  flags.token_initializer = absl::GetFlag(FLAGS_token_initializer);
  flags.augment = absl::GetFlag(FLAGS_augment);
  flags.settings = absl::GetFlag(FLAGS_settings);
  flags.seed = absl::GetFlag(FLAGS_seed);
  flags.request_id = absl::GetFlag(FLAGS_request_id);
  flags.no_wait = absl::GetFlag(FLAGS_no_wait);
  flags.webhook_url = absl::GetFlag(FLAGS_webhook_url);
  flags.rotate = absl::GetFlag(FLAGS_rotate);
  flags.prompt = absl::GetFlag(FLAGS_prompt);
  flags.version = absl::GetFlag(FLAGS_sample_version);
  flags.count = absl::GetFlag(FLAGS_count);
  flags.guidance = absl::GetFlag(FLAGS_guidance);
  flags.sampler = absl::GetFlag(FLAGS_sampler);
  flags.out_dir = absl::GetFlag(FLAGS_out);
  flags.format = absl::GetFlag(FLAGS_format);
  flags.half = absl::GetFlag(FLAGS_half);
  flags.label = absl::GetFlag(FLAGS_label);
  flags.ttl_hours = absl::GetFlag(FLAGS_ttl_hours);
  flags.keep = absl::GetFlag(FLAGS_keep);
  if (!words.empty() && words[0] == "admin") {
    auto token = stamina::rpc::SecretFromFileOrEnvironment(
        absl::GetFlag(FLAGS_admin_token_file), "STAMINA_ADMIN_TOKEN", "--admin_token_file");
    if (!token.ok()) {
      std::cerr << "stamina: " << token.status().ToString() << "\n";
      return stamina::cli::ExitCodeFor(token.status());
    }
    options.admin_token = *token;
  }

  std::string server = absl::GetFlag(FLAGS_server);
  if (server.empty()) server = EnvOr("STAMINA_SERVER", "127.0.0.1:7070");
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(64 << 20);  // generated PNGs
  const std::string tls_ca = absl::GetFlag(FLAGS_tls_ca).empty()
                                 ? EnvOr("STAMINA_TLS_CA", "")
                                 : absl::GetFlag(FLAGS_tls_ca);
  const bool tls = absl::GetFlag(FLAGS_tls) || EnvOr("STAMINA_TLS", "") == "1";
  auto credentials = stamina::rpc::ChannelCredentialsFor({.enabled = tls, .ca_file = tls_ca});
  if (!credentials.ok()) {
    std::cerr << "stamina: " << credentials.status().ToString() << "\n";
    return stamina::cli::ExitCodeFor(credentials.status());
  }
  if (const std::string name = absl::GetFlag(FLAGS_tls_server_name);
      !name.empty() && (tls || !tls_ca.empty())) {
    channel_args.SetSslTargetNameOverride(name);
  }
  auto channel = grpc::CreateCustomChannel(server, *credentials, channel_args);
  stamina::cli::Session session(channel, options, std::cout, std::cerr);
  const int code = stamina::cli::RunCommand(session, words);
  std::cout.flush();
  return code;
}
