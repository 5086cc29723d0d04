// `kvfs peer add|rm|ls [STORE] ...` (the peers of STORE/kvfs.conf) and
// `kvfs key show|set [STORE] ...` (the store key file). Running mounts and `kvfs
// serve` read both when they start.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "context.h"
#include "crypto/init.h"
#include "crypto/store_key.h"
#include "sync/config.h"
#include "sync/service_runner.h"
#include "sync/socket.h"
#include "sync_cli.h"

namespace kvfs::cli {
namespace {

// A key's text is 49 bytes; anything much longer on stdin is not a key.
constexpr size_t kMaxKeyInput = 4096;

// Splits "[STORE] VALUE" positionals.
std::string SplitStore(CliContext& ctx, const std::vector<std::string>& positionals) {
  if (positionals.size() == 2) UseStore(ctx, positionals[0]);
  return positionals.back();
}

Result<std::string> ReadStdinKey() {
  std::string text;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status(Code::kIo,
                    std::string("cannot read the key from stdin: ") + std::strerror(errno));
    }
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxKeyInput) {
      return Status(Code::kInvalid,
                    "stdin holds more than a key; give only the text that "
                    "'kvfs key show' prints");
    }
  }
}

Result<sync::ConfigFile> LoadConfig(const std::string& dir) {
  return sync::ConfigFile::Load(sync::ConfigPath(dir));
}

}  // namespace

int RunPeerAdd(CliContext& ctx, const PeerArgs& args) {
  const std::string peer = SplitStore(ctx, args.positionals);
  auto hp = sync::ParseHostPort(peer);
  if (!hp.ok()) return ctx.Fail(hp.status());
  auto dir = CheckedStoreDir(ctx);
  if (!dir.ok()) return ctx.Fail(dir.status());
  auto config = LoadConfig(*dir);
  if (!config.ok()) return ctx.Fail(config.status());
  for (const std::string& p : config->GetAll("peer")) {
    if (p == peer) {
      Status st = WriteStdout("peer " + peer + " is already in " + sync::ConfigPath(*dir) + "\n");
      return st.ok() ? kExitOk : ctx.Fail(st);
    }
  }
  config->Add("peer", peer);
  if (Status st = config->Save(sync::ConfigPath(*dir)); !st.ok()) return ctx.Fail(st);
  Status st = WriteStdout("added peer " + peer + " to " + sync::ConfigPath(*dir) +
                          "; mounts and kvfs serve started from now on dial it\n");
  return st.ok() ? kExitOk : ctx.Fail(st);
}

int RunPeerRm(CliContext& ctx, const PeerArgs& args) {
  const std::string peer = SplitStore(ctx, args.positionals);
  auto dir = CheckedStoreDir(ctx);
  if (!dir.ok()) return ctx.Fail(dir.status());
  auto config = LoadConfig(*dir);
  if (!config.ok()) return ctx.Fail(config.status());
  if (!config->Remove("peer", peer)) {
    return ctx.Fail(Status(Code::kNotFound, "no peer " + peer + " in " + sync::ConfigPath(*dir) +
                                                "; list them with: kvfs peer ls " + *dir));
  }
  if (Status st = config->Save(sync::ConfigPath(*dir)); !st.ok()) return ctx.Fail(st);
  Status st = WriteStdout("removed peer " + peer + " from " + sync::ConfigPath(*dir) + "\n");
  return st.ok() ? kExitOk : ctx.Fail(st);
}

int RunPeerLs(CliContext& ctx, const std::string& store) {
  UseStore(ctx, store);
  auto dir = CheckedStoreDir(ctx);
  if (!dir.ok()) return ctx.Fail(dir.status());
  auto config = LoadConfig(*dir);
  if (!config.ok()) return ctx.Fail(config.status());
  std::string out;
  for (const std::string& p : config->GetAll("peer")) out += p + "\n";
  Status st = WriteStdout(out);
  return st.ok() ? kExitOk : ctx.Fail(st);
}

int RunKeyShow(CliContext& ctx, const std::string& store) {
  UseStore(ctx, store);
  auto dir = CheckedStoreDir(ctx);
  if (!dir.ok()) return ctx.Fail(dir.status());
  if (Status st = crypto::Init(); !st.ok()) return ctx.Fail(st);
  auto key = crypto::ReadStoreKeyFile(sync::StoreKeyFile(*dir));
  if (!key.ok()) return ctx.Fail(key.status());
  Status st = WriteStdout(crypto::EncodeStoreKey(*key) + "\n");
  return st.ok() ? kExitOk : ctx.Fail(st);
}

int RunKeySet(CliContext& ctx, const KeySetArgs& args) {
  std::string text = SplitStore(ctx, args.positionals);
  if (Status st = crypto::Init(); !st.ok()) return ctx.Fail(st);
  if (text == "-") {
    auto read = ReadStdinKey();
    if (!read.ok()) return ctx.Fail(read.status());
    text = std::move(read).value();
  }
  // Checked before the store is touched; the message never repeats the input.
  auto key = crypto::DecodeStoreKey(text);
  if (!key.ok()) {
    return ctx.Fail(Status(key.status().code(),
                           "not a store key: " + key.status().message() + "; nothing was changed"));
  }
  auto dir = CheckedStoreDir(ctx);
  if (!dir.ok()) return ctx.Fail(dir.status());
  const std::string path = sync::StoreKeyFile(*dir);
  if (Status st = crypto::WriteStoreKeyFile(path, *key, crypto::Overwrite::kYes); !st.ok()) {
    return ctx.Fail(st);
  }
  Status st = WriteStdout("store key replaced (fingerprint " + crypto::KeyFingerprint(*key) +
                          "); restart mounts and kvfs serve of this store to use it\n");
  return st.ok() ? kExitOk : ctx.Fail(st);
}

}  // namespace kvfs::cli
