#include "sync/service_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "crypto/store_key.h"
#include "sync/config.h"
#include "sync/peer_manager.h"

namespace kvfs::sync {

std::string StoreKeyFile(const std::string& store_dir) { return store_dir + "/store.key"; }

Status MergeStoreConfig(const std::string& store_dir, std::vector<std::string>* peers,
                        std::string* listen) {
  KVFS_ASSIGN_OR_RETURN(ConfigFile file, ConfigFile::Load(ConfigPath(store_dir)));
  KVFS_ASSIGN_OR_RETURN(SyncConfig config, file.Sync());
  for (const std::string& peer : config.peers) {
    if (std::find(peers->begin(), peers->end(), peer) == peers->end()) peers->push_back(peer);
  }
  if (listen->empty()) *listen = config.listen;
  return Status::Ok();
}

Status RunSyncService(store::Store& store, const std::vector<std::string>& peers,
                      const std::string& listen, std::stop_token stop,
                      std::function<void()> on_store_changed,
                      std::function<bool(uint64_t ino)> hold_back) {
  KVFS_ASSIGN_OR_RETURN(crypto::StoreKey key, crypto::ReadStoreKeyFile(StoreKeyFile(store.dir())));
  SyncServiceOptions options;
  options.peers = peers;
  options.listen = listen;
  options.on_store_changed = std::move(on_store_changed);
  options.session.hold_back = std::move(hold_back);
  SyncService service(store, key, options);
  KVFS_RETURN_IF_ERROR(service.Start());
  spdlog::info("sync: node {:016x}, key {}, {} peer(s){}", store.node_id(),
               crypto::KeyFingerprint(key), peers.size(),
               listen.empty() ? std::string() : ", listening on " + listen);
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait(lock, stop, [] { return false; });
  spdlog::info("sync: stopping");
  return Status::Ok();
}

}  // namespace kvfs::sync
