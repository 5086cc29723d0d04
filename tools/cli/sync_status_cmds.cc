// `kvfs status [STORE]` and `kvfs conflicts [STORE]`: what the sync layer knows,
// read from the store (its sync table is written by the running sessions of any
// process: a mount daemon, `kvfs serve`, `kvfs sync`).
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "context.h"
#include "crypto/store_key.h"
#include "format.h"
#include "sync/config.h"
#include "sync/conflicts.h"
#include "sync/peer_status.h"
#include "sync/service_runner.h"
#include "sync/socket.h"
#include "sync_cli.h"

namespace kvfs::cli {
namespace {

std::string Contact(uint64_t ms) {
  if (ms == 0) return "never";
  const store::Timespec ts{static_cast<int64_t>(ms / 1000),
                           static_cast<int64_t>(ms % 1000) * 1000000};
  const uint64_t now = store::WallClockMs();
  const uint64_t ago = now > ms ? (now - ms) / 1000 : 0;
  return FormatTime(ts, /*with_nanos=*/false) + " (" + std::to_string(ago) + " s ago)";
}

// "a:1" and "a:01" name one peer; compare them as the sessions record them.
std::string Normalized(const std::string& address) {
  auto hp = sync::ParseHostPort(address);
  return hp.ok() ? hp->ToString() : address;
}

}  // namespace

int RunStatus(CliContext& ctx, const std::string& store_arg) {
  UseStore(ctx, store_arg);
  auto store = ctx.OpenStore(/*read_only=*/true);
  if (!store.ok()) return ctx.Fail(store.status());
  const std::string dir = ctx.StoreDir();
  std::string out;
  auto line = [&out](const std::string& field, const std::string& value) {
    out += field + ": " + value + "\n";
  };
  line("store", dir);
  line("node", Hex64((*store)->node_id()));
  auto key = crypto::ReadStoreKeyFile(sync::StoreKeyFile(dir));
  line("key", key.ok() ? "fingerprint " + crypto::KeyFingerprint(*key)
                       : "unusable: " + OneLine(key.status().message()));

  sync::SyncConfig config;
  auto file = sync::ConfigFile::Load(sync::ConfigPath(dir));
  Status config_st = file.status();
  if (file.ok()) {
    auto parsed = file->Sync();
    config_st = parsed.status();
    if (parsed.ok()) config = *parsed;
  }
  if (!config_st.ok()) line("config", "unusable: " + OneLine(config_st.message()));
  line("listen", config.listen.empty() ? "(none)" : config.listen);
  std::string peers;
  for (const std::string& p : config.peers) peers += (peers.empty() ? "" : ", ") + p;
  line("peers", peers.empty() ? "(none configured)" : peers);

  uint64_t last_seq = 0;
  size_t conflicts = 0;
  std::vector<sync::PeerStatus> known;
  Status st = ctx.Read([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(last_seq, t.LastSeq());
    KVFS_ASSIGN_OR_RETURN(known, sync::ReadPeerStatus(t));
    return sync::ForEachConflict(t, [&conflicts](const std::string&) {
      ++conflicts;
      return Status::Ok();
    });
  });
  if (!st.ok()) return ctx.Fail(st);
  line("last change", "seq " + std::to_string(last_seq));
  line("conflicts", std::to_string(conflicts) + (conflicts ? " (list them: kvfs conflicts)" : ""));

  for (const sync::PeerStatus& p : known) {
    std::string value =
        (p.contact.address.empty() ? "?" : p.contact.address) +
        (p.live ? ", connected" : ", not connected") + ", last contact " +
        Contact(p.contact.last_contact_ms) + ", pending out " + std::to_string(p.pending_out) +
        (p.pending_out_capped ? "+" : "") + ", pending in " +
        (p.pending_in ? "up to " + std::to_string(p.pending_in) + " changes" : std::string("0"));
    line("peer " + Hex64(p.contact.node), value);
  }
  for (const std::string& configured : config.peers) {
    const bool seen = std::any_of(known.begin(), known.end(), [&](const sync::PeerStatus& p) {
      return Normalized(p.contact.address) == Normalized(configured);
    });
    if (!seen) line("peer " + configured, "never contacted");
  }
  st = WriteStdout(out);
  return st.ok() ? kExitOk : ctx.Fail(st);
}

int RunConflicts(CliContext& ctx, const std::string& store_arg) {
  UseStore(ctx, store_arg);
  std::string out;
  Status st = ctx.Read([&](store::ReadTxn& t) {
    return sync::ForEachConflict(t, [&out](const std::string& path) {
      out += OneLine(path) + "\n";
      return Status::Ok();
    });
  });
  if (st.ok()) st = WriteStdout(out);
  return st.ok() ? kExitOk : ctx.Fail(st);
}

}  // namespace kvfs::cli
