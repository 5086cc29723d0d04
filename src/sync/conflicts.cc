#include "sync/conflicts.h"

#include <vector>

namespace kvfs::sync {
namespace {

// Directory entries are read in pages so a huge directory is never one allocation.
constexpr size_t kPage = 1024;

}  // namespace

Status ForEachConflict(store::ReadTxn& t, const std::function<Status(const std::string&)>& fn) {
  struct Dir {
    store::Ino ino;
    std::string path;  // "" for the root
  };
  std::vector<Dir> todo{{store::kRootIno, ""}};
  while (!todo.empty()) {
    Dir dir = std::move(todo.back());
    todo.pop_back();
    std::string after;
    std::vector<Dir> subdirs;
    for (;;) {
      KVFS_ASSIGN_OR_RETURN(auto entries, t.ListDir(dir.ino, after, kPage));
      for (const store::DirEntry& e : entries) {
        const std::string path = dir.path.empty() ? e.name : dir.path + "/" + e.name;
        if (e.name.find(kConflictMarker) != std::string::npos) KVFS_RETURN_IF_ERROR(fn(path));
        if (e.type == store::FileType::kDirectory) subdirs.push_back(Dir{e.ino, path});
      }
      if (entries.size() < kPage) break;
      after = entries.back().name;
    }
    // Reversed onto the stack, so directories are walked in name order.
    todo.insert(todo.end(), subdirs.rbegin(), subdirs.rend());
  }
  return Status::Ok();
}

}  // namespace kvfs::sync
