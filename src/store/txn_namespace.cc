// WriteTxn namespace operations: create, link, unlink, rmdir, rename.
#include <sys/stat.h>

#include <algorithm>

#include "store/keys.h"
#include "store/path.h"
#include "store/record_codec.h"
#include "store/txn.h"

namespace kvfs::store {

Result<Inode> WriteTxn::Create(Ino parent_ino, std::string_view name, const NewObject& spec) {
  KVFS_RETURN_IF_ERROR(ValidateName(name));
  KVFS_ASSIGN_OR_RETURN(Inode parent, LiveDir(parent_ino));
  auto existing = Lookup(parent_ino, name);
  if (existing.ok()) return Status(Code::kExists, "'" + std::string(name) + "' already exists");
  if (existing.status().code() != Code::kNotFound) return existing.status();
  if (spec.type == FileType::kSymlink &&
      (spec.symlink_target.empty() || spec.symlink_target.size() > kMaxSymlinkLen)) {
    return Status(spec.symlink_target.empty() ? Code::kNotFound : Code::kNameTooLong,
                  "a symlink target must be 1 to 4095 bytes");
  }

  Inode n;
  KVFS_ASSIGN_OR_RETURN(n.ino, NextCounter(keys::kMetaNextIno, next_ino_));
  n.oid = ObjectId{node_id_, n.ino};
  n.type = spec.type;
  n.mode = spec.mode & 07777;
  n.uid = spec.uid;
  n.gid = spec.gid;
  // A setgid directory passes its group on, and its setgid bit to subdirectories.
  if (parent.mode & S_ISGID) {
    n.gid = parent.gid;
    if (spec.type == FileType::kDirectory) n.mode |= S_ISGID;
  }
  n.atime = n.mtime = n.ctime = Now();
  n.links.push_back(store::Link{parent_ino, std::string(name)});
  n.nlink = spec.type == FileType::kDirectory ? 2 : 1;
  if (spec.type == FileType::kSymlink) {
    n.symlink_target = spec.symlink_target;
    n.size = spec.symlink_target.size();
    n.mode = 0777;
  }
  KVFS_RETURN_IF_ERROR(Save(n, ChangeOp::kCreate));
  KVFS_RETURN_IF_ERROR(Put(t_.objects, keys::ObjectKey(n.oid), keys::InodeKey(n.ino)));
  KVFS_RETURN_IF_ERROR(AddEntry(parent_ino, name, n));
  KVFS_RETURN_IF_ERROR(TouchDir(parent, n.is_dir() ? 1 : 0));
  return n;
}

Result<Inode> WriteTxn::Link(Ino ino, Ino new_parent, std::string_view new_name) {
  KVFS_RETURN_IF_ERROR(ValidateName(new_name));
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
  if (node.is_dir()) return Status(Code::kPermission, "cannot hard-link a directory");
  if (node.deleted) return Status(Code::kNotFound, "cannot link a deleted file");
  KVFS_ASSIGN_OR_RETURN(Inode parent, LiveDir(new_parent));
  auto existing = Lookup(new_parent, new_name);
  if (existing.ok()) return Status(Code::kExists, "'" + std::string(new_name) + "' already exists");
  if (existing.status().code() != Code::kNotFound) return existing.status();
  node.links.push_back(store::Link{new_parent, std::string(new_name)});
  node.nlink = static_cast<uint32_t>(node.links.size());
  node.ctime = Now();
  KVFS_RETURN_IF_ERROR(Save(node, ChangeOp::kLink));
  KVFS_RETURN_IF_ERROR(AddEntry(new_parent, new_name, node));
  KVFS_RETURN_IF_ERROR(TouchDir(parent, 0));
  return node;
}

Status WriteTxn::DropLink(Inode& child, Ino parent, std::string_view name) {
  KVFS_RETURN_IF_ERROR(Del(t_.dirents, keys::DirentKey(parent, name)));
  child.ctime = Now();
  const store::Link link{parent, std::string(name)};
  if (child.links.size() <= 1) {
    // The last name goes: the object becomes a tombstone. It keeps that name as its
    // last live name, which sync needs if a concurrent edit brings it back.
    child.deleted = true;
    child.nlink = 0;
    return Save(child, ChangeOp::kDelete);
  }
  auto it = std::find(child.links.begin(), child.links.end(), link);
  if (it != child.links.end()) child.links.erase(it);
  child.nlink = static_cast<uint32_t>(child.links.size());
  return Save(child, ChangeOp::kRename);
}

Result<Inode> WriteTxn::Unlink(Ino parent_ino, std::string_view name) {
  KVFS_ASSIGN_OR_RETURN(Inode parent, LiveDir(parent_ino));
  KVFS_ASSIGN_OR_RETURN(Inode child, Lookup(parent_ino, name));
  if (child.is_dir()) return Status(Code::kIsDir, "'" + std::string(name) + "' is a directory");
  KVFS_RETURN_IF_ERROR(DropLink(child, parent_ino, name));
  KVFS_RETURN_IF_ERROR(TouchDir(parent, 0));
  return child;
}

Status WriteTxn::Rmdir(Ino parent_ino, std::string_view name) {
  KVFS_ASSIGN_OR_RETURN(Inode parent, LiveDir(parent_ino));
  KVFS_ASSIGN_OR_RETURN(Inode child, Lookup(parent_ino, name));
  if (!child.is_dir()) return Status(Code::kNotDir, "'" + std::string(name) + "' is not a directory");
  KVFS_ASSIGN_OR_RETURN(auto entries, ListDir(child.ino, {}, 1));
  if (!entries.empty()) {
    return Status(Code::kNotEmpty, "directory '" + std::string(name) + "' is not empty");
  }
  KVFS_RETURN_IF_ERROR(DropLink(child, parent_ino, name));
  return TouchDir(parent, -1);
}

Status WriteTxn::CheckNotAncestor(Ino dir, Ino target) {
  // Walks up from `target`; meeting `dir` means the move would put dir inside itself.
  for (int depth = 0; target != kRootIno; ++depth) {
    if (target == dir) {
      return Status(Code::kInvalid, "cannot move a directory into itself or its subdirectory");
    }
    KVFS_ASSIGN_OR_RETURN(Inode node, Get(target));
    if (node.links.empty() || depth > 100000) {
      return Status(Code::kCorruption, "directory " + std::to_string(target) + " has no parent");
    }
    target = node.links.front().parent;
  }
  return dir == kRootIno ? Status(Code::kInvalid, "cannot move the root") : Status::Ok();
}

Result<RenameOutcome> WriteTxn::Rename(Ino parent, std::string_view name, Ino new_parent,
                                       std::string_view new_name, unsigned flags) {
  KVFS_RETURN_IF_ERROR(ValidateName(new_name));
  if ((flags & kRenameNoReplace) && (flags & kRenameExchange)) {
    return Status(Code::kInvalid, "RENAME_NOREPLACE and RENAME_EXCHANGE cannot be combined");
  }
  KVFS_ASSIGN_OR_RETURN(Inode src, Lookup(parent, name));
  KVFS_RETURN_IF_ERROR(LiveDir(new_parent).status());
  std::optional<Inode> dst;
  if (auto d = Lookup(new_parent, new_name); d.ok()) {
    dst = std::move(d).value();
  } else if (d.status().code() != Code::kNotFound) {
    return d.status();
  }
  RenameOutcome out{src.ino, std::nullopt};
  if (parent == new_parent && name == new_name) return out;
  if (dst && (flags & kRenameNoReplace)) {
    return Status(Code::kExists, "'" + std::string(new_name) + "' already exists");
  }
  if (!dst && (flags & kRenameExchange)) {
    return Status(Code::kNotFound, "'" + std::string(new_name) + "' does not exist to exchange");
  }
  if (src.is_dir()) KVFS_RETURN_IF_ERROR(CheckNotAncestor(src.ino, new_parent));
  if (dst && dst->ino == src.ino) return out;  // two names of one file: POSIX does nothing

  if (flags & kRenameExchange) {
    if (dst->is_dir()) KVFS_RETURN_IF_ERROR(CheckNotAncestor(dst->ino, parent));
    for (auto [node, from, from_name, to, to_name] :
         {std::tuple{&src, parent, name, new_parent, new_name},
          std::tuple{&*dst, new_parent, new_name, parent, name}}) {
      auto it = std::find(node->links.begin(), node->links.end(),
                          store::Link{from, std::string(from_name)});
      if (it != node->links.end()) *it = store::Link{to, std::string(to_name)};
      node->ctime = Now();
      KVFS_RETURN_IF_ERROR(AddEntry(to, to_name, *node));
      KVFS_RETURN_IF_ERROR(Save(*node, ChangeOp::kRename));
    }
    const int moved_dirs = (src.is_dir() ? 1 : 0) - (dst->is_dir() ? 1 : 0);
    KVFS_ASSIGN_OR_RETURN(Inode p1, Get(parent));
    KVFS_RETURN_IF_ERROR(TouchDir(p1, parent == new_parent ? 0 : -moved_dirs));
    if (parent != new_parent) {
      KVFS_ASSIGN_OR_RETURN(Inode p2, Get(new_parent));
      KVFS_RETURN_IF_ERROR(TouchDir(p2, moved_dirs));
    }
    return out;
  }

  if (dst) {
    if (dst->is_dir()) {
      if (!src.is_dir()) return Status(Code::kIsDir, "cannot replace a directory with a file");
      KVFS_ASSIGN_OR_RETURN(auto entries, ListDir(dst->ino, {}, 1));
      if (!entries.empty()) {
        return Status(Code::kNotEmpty, "directory '" + std::string(new_name) + "' is not empty");
      }
    } else if (src.is_dir()) {
      return Status(Code::kNotDir, "cannot replace a file with a directory");
    }
    KVFS_RETURN_IF_ERROR(DropLink(*dst, new_parent, new_name));
    if (dst->is_dir()) {
      KVFS_ASSIGN_OR_RETURN(Inode p, Get(new_parent));
      KVFS_RETURN_IF_ERROR(TouchDir(p, -1));
    }
    out.replaced = dst;
  }
  KVFS_RETURN_IF_ERROR(Del(t_.dirents, keys::DirentKey(parent, name)));
  auto it = std::find(src.links.begin(), src.links.end(), store::Link{parent, std::string(name)});
  if (it != src.links.end()) *it = store::Link{new_parent, std::string(new_name)};
  src.ctime = Now();
  KVFS_RETURN_IF_ERROR(AddEntry(new_parent, new_name, src));
  KVFS_RETURN_IF_ERROR(Save(src, ChangeOp::kRename));
  const int dir_delta = src.is_dir() ? 1 : 0;
  KVFS_ASSIGN_OR_RETURN(Inode from_dir, Get(parent));
  KVFS_RETURN_IF_ERROR(TouchDir(from_dir, parent == new_parent ? 0 : -dir_delta));
  if (parent != new_parent) {
    KVFS_ASSIGN_OR_RETURN(Inode to_dir, Get(new_parent));
    KVFS_RETURN_IF_ERROR(TouchDir(to_dir, dir_delta));
  }
  return out;
}

}  // namespace kvfs::store
