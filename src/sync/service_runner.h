#pragma once
// Running sync for a store that a long-lived process serves (the mount daemon,
// `kvfs serve`): the settings of STORE/kvfs.conf merged with those given on the
// command line, and a SyncService run until a stop is requested.
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace kvfs::sync {

// The store key file that `kvfs init` writes and `kvfs key set` replaces.
std::string StoreKeyFile(const std::string& store_dir);

// Adds the peers of STORE/kvfs.conf to `peers` (those not given already), and takes
// its listen address when `listen` is empty. kInvalid (naming file and line, or the
// bad address) for a malformed file.
Status MergeStoreConfig(const std::string& store_dir, std::vector<std::string>* peers,
                        std::string* listen);

// Reads the store key, starts a SyncService with `peers` and `listen` on `store`, and
// runs it until `stop`. Errors are returned before anything runs (no key, a bad
// address, a port in use); once started, connection trouble is only logged.
// `on_store_changed`: see SyncServiceOptions.
// `hold_back`: see SessionOptions::hold_back.
Status RunSyncService(store::Store& store, const std::vector<std::string>& peers,
                      const std::string& listen, std::stop_token stop,
                      std::function<void()> on_store_changed = {},
                      std::function<bool(uint64_t ino)> hold_back = {});

}  // namespace kvfs::sync
