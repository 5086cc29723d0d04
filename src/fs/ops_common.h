#pragma once
// Small helpers the operation families share.

#include <string_view>

#include "fs/filesystem.h"
#include "fs/reply.h"
#include "store/types.h"

namespace kvfs::fs {

// Replies with an entry for `node`, reached as `name` in `parent`, counting the
// lookup the kernel now holds (and taking it back if the reply was not taken).
inline void ReplyEntry(Reply& r, const store::Inode& node, store::Ino parent,
                       std::string_view name) {
  Filesystem& fs = r.fs();
  fuse_entry_param e;
  fs.FillEntry(node, &e);
  fs.nodes().Remember(node.ino, parent, name);
  if (!r.Entry(e)) fs.nodes().Forget(node.ino, 1);
}

// After a name of `node` went away: purges it now if it became a tombstone the
// kernel does not hold, or marks it so the last forget/release purges it.
inline void AfterRemove(Filesystem& fs, const store::Inode& node, store::Ino parent,
                        std::string_view name) {
  fs.nodes().DropName(node.ino, parent, name);
  if (node.deleted && fs.nodes().MarkDeleted(node.ino)) fs.PurgeIfDeleted(node.ino);
}

}  // namespace kvfs::fs
