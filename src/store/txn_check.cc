// ReadTxn::Check: every record of every table, checked against the others (check.h).
// Each table is scanned once with a cursor; what a record refers to is looked up,
// so memory stays small whatever the size of the store.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "store/keys.h"
#include "store/lmdb.h"
#include "store/record_codec.h"
#include "store/txn.h"

namespace kvfs::store {
namespace {

// A name as text: bytes that are not printable ASCII become \xNN.
std::string Printable(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return "'" + out + "'";
}

std::string InodeText(Ino ino) { return "inode " + std::to_string(ino); }

class Problems {
 public:
  Problems(CheckReport& report, size_t max) : report_(report), max_(max) {}

  void Add(std::string what) {
    ++report_.problem_count;
    if (report_.problems.size() < max_) report_.problems.push_back(std::move(what));
  }
  // A scan that ended on an error (a page LMDB cannot read), not at the table's end.
  void AfterScan(const lmdb::Cursor& cur, const char* table) {
    if (cur.rc() != MDB_SUCCESS && cur.rc() != MDB_NOTFOUND) {
      Add(std::string("the ") + table + " table cannot be read to its end: " +
          mdb_strerror(cur.rc()));
    }
  }

 private:
  CheckReport& report_;
  const size_t max_;
};

}  // namespace

Result<CheckReport> ReadTxn::Check(size_t max_problems) {
  CheckReport report;
  Problems problems(report, max_problems);
  auto no_cursor = [](const char* table) {
    return Status(Code::kIo, std::string("cannot open a cursor on the ") + table + " table");
  };
  // Raw lookups: a failed read is a problem of the store, not of the check.
  auto lookup = [&](MDB_dbi dbi, const std::string& key) -> std::optional<std::string_view> {
    auto raw = GetRaw(dbi, key);
    if (!raw.ok()) {
      problems.Add("a lookup failed: " + raw.status().message());
      return std::nullopt;
    }
    return *raw;
  };

  // --- meta: the records every store has, and its counters.
  for (const char* name : {keys::kMetaFormat, keys::kMetaNodeId}) {
    if (!lookup(t_.meta, name)) problems.Add(std::string("the meta table has no '") + name + "'");
  }
  auto counter = [&](const char* name) -> std::optional<uint64_t> {
    auto raw = lookup(t_.meta, name);
    if (!raw || raw->size() != 8) {
      problems.Add(std::string("the meta counter '") + name + "' is missing or not 8 bytes");
      return std::nullopt;
    }
    return keys::DecodeU64(*raw);
  };
  const std::optional<uint64_t> next_ino = counter(keys::kMetaNextIno);
  const std::optional<uint64_t> next_seq = counter(keys::kMetaNextSeq);
  uint64_t max_ino = 0, max_seq = 0;

  // --- inodes: each record, its names, its feed entry and its object id.
  {
    lmdb::Cursor cur(txn_, t_.inodes);
    if (!cur.ok()) return no_cursor("inodes");
    for (bool more = cur.First(); more; more = cur.Next()) {
      if (cur.key().size() != 8) {
        problems.Add("an inode key of " + std::to_string(cur.key().size()) + " bytes (8 expected)");
        continue;
      }
      const Ino ino = keys::DecodeU64(cur.key());
      max_ino = std::max(max_ino, ino);
      auto node = DecodeInode(ino, cur.value());
      if (!node.ok()) {
        problems.Add(InodeText(ino) + " cannot be decoded: " + node.status().message());
        continue;
      }
      if (node->deleted) {
        ++report.tombstones;
      } else {
        if (node->is_dir()) ++report.dirs;
        if (node->is_file()) ++report.files;
        if (node->is_symlink()) ++report.symlinks;
        if (ino != kRootIno && node->links.empty()) {
          problems.Add(InodeText(ino) + " is live but has no name: nothing can reach it");
        }
        if (node->is_dir() && node->links.size() > 1) {
          problems.Add("directory " + InodeText(ino) + " has " + std::to_string(node->links.size()) +
                       " names");
        }
      }
      // A tombstone keeps the name it was deleted under, for its peers; no entry.
      for (const Link& link : node->deleted ? std::vector<Link>{} : node->links) {
        auto entry = lookup(t_.dirents, keys::DirentKey(link.parent, link.name));
        Ino child = 0;
        FileType type;
        if (!entry) {
          problems.Add(InodeText(ino) + " has the name " + Printable(link.name) + " in directory " +
                       InodeText(link.parent) + ", which has no such entry");
        } else if (DecodeDirent(*entry, &child, &type) && child != ino) {
          problems.Add(InodeText(ino) + " has the name " + Printable(link.name) + " in directory " +
                       InodeText(link.parent) + ", whose entry is " + InodeText(child));
        }
      }
      if (node->seq != 0) {
        max_seq = std::max(max_seq, node->seq);
        auto change_raw = lookup(t_.feed, keys::FeedKey(node->seq));
        if (!change_raw) {
          problems.Add(InodeText(ino) + " has no feed entry at its seq " + std::to_string(node->seq));
        }
      }
      if (ino != kRootIno) {
        auto object = lookup(t_.objects, keys::ObjectKey(node->oid));
        if (!object) {
          problems.Add(InodeText(ino) + "'s object id " + node->oid.ToString() +
                       " is not in the objects table");
        } else if (object->size() != 8 || keys::DecodeU64(*object) != ino) {
          problems.Add(InodeText(ino) + "'s object id " + node->oid.ToString() +
                       " maps to another inode");
        }
      }
    }
    problems.AfterScan(cur, "inodes");
  }

  // --- dirents: each entry names a live object of its type in a live directory.
  {
    lmdb::Cursor cur(txn_, t_.dirents);
    if (!cur.ok()) return no_cursor("dirents");
    Ino parent_ino = 0;
    bool parent_ok = false;
    for (bool more = cur.First(); more; more = cur.Next()) {
      if (cur.key().size() <= 8) {
        problems.Add("a directory entry key of " + std::to_string(cur.key().size()) +
                     " bytes (more than 8 expected)");
        continue;
      }
      ++report.names;
      const Ino parent = keys::KeyIno(cur.key());
      const std::string name = Printable(keys::KeySuffix(cur.key()));
      if (parent != parent_ino || report.names == 1) {  // entries come grouped by parent
        parent_ino = parent;
        auto dir = Get(parent);
        parent_ok = dir.ok() && !dir->deleted && dir->is_dir();
        if (!parent_ok) {
          problems.Add("the entries of " + InodeText(parent) + " (" + name + " first) are in " +
                       (dir.ok() ? (dir->deleted ? "a deleted object" : "an object that is not a directory")
                                 : "no readable object"));
        }
      }
      Ino child_ino = 0;
      FileType type;
      if (!DecodeDirent(cur.value(), &child_ino, &type)) {
        problems.Add("the entry " + name + " of directory " + InodeText(parent) + " cannot be decoded");
        continue;
      }
      auto child = Get(child_ino);
      const std::string where = "the entry " + name + " of directory " + InodeText(parent);
      if (!child.ok()) {
        problems.Add(where + " points to " + InodeText(child_ino) + ", which cannot be read: " +
                     child.status().message());
      } else if (child->deleted) {
        problems.Add(where + " points to " + InodeText(child_ino) + ", which is deleted");
      } else if (child->type != type) {
        problems.Add(where + " gives another type than " + InodeText(child_ino) + " has");
      } else if (std::find(child->links.begin(), child->links.end(),
                           Link{parent, std::string(keys::KeySuffix(cur.key()))}) ==
                 child->links.end()) {
        problems.Add(where + " points to " + InodeText(child_ino) + ", which does not list that name");
      }
    }
    problems.AfterScan(cur, "dirents");
  }

  // --- chunks: each belongs to a regular file and lies inside its size.
  {
    lmdb::Cursor cur(txn_, t_.chunks);
    if (!cur.ok()) return no_cursor("chunks");
    Ino file_ino = 0;
    std::optional<Inode> file;
    for (bool more = cur.First(); more; more = cur.Next()) {
      if (cur.key().size() != 16) {
        problems.Add("a content chunk key of " + std::to_string(cur.key().size()) +
                     " bytes (16 expected)");
        continue;
      }
      ++report.chunks;
      const Ino ino = keys::KeyIno(cur.key());
      const uint64_t index = keys::DecodeU64(cur.key().substr(8));
      if (ino != file_ino || report.chunks == 1) {  // a file's chunks come together
        file_ino = ino;
        auto node = Get(ino);
        file = node.ok() ? std::optional<Inode>(*node) : std::nullopt;
        if (!file || !file->is_file()) {
          problems.Add("content chunks of " + InodeText(ino) + ", which " +
                       (file ? "is not a regular file" : "cannot be read"));
        }
      }
      const std::string_view value = cur.value();
      HlcStamp stamp;
      if (value.size() < 16 || !DecodeStamp(value, &stamp) || value.size() - 16 > kChunkSize) {
        problems.Add("content chunk " + std::to_string(index) + " of " + InodeText(ino) +
                     " has a bad size or stamp");
        continue;
      }
      const uint64_t data_size = value.size() - 16;
      report.content_bytes += data_size;
      if (file && file->is_file() && index * kChunkSize + data_size > file->size) {
        problems.Add("content chunk " + std::to_string(index) + " of " +
                     (file->deleted ? "deleted " : "") + InodeText(ino) + " ends at " +
                     std::to_string(index * kChunkSize + data_size) +
                     ", past the file's size " + std::to_string(file->size));
      }
    }
    problems.AfterScan(cur, "chunks");
  }

  // --- xattrs: each belongs to an object.
  {
    lmdb::Cursor cur(txn_, t_.xattrs);
    if (!cur.ok()) return no_cursor("xattrs");
    for (bool more = cur.First(); more; more = cur.Next()) {
      ++report.xattrs;
      if (cur.key().size() <= 8) {
        problems.Add("an extended attribute key of " + std::to_string(cur.key().size()) + " bytes");
        continue;
      }
      const Ino ino = keys::KeyIno(cur.key());
      if (!lookup(t_.inodes, keys::InodeKey(ino))) {
        problems.Add("the extended attribute " + Printable(keys::KeySuffix(cur.key())) + " of " +
                     InodeText(ino) + ", which does not exist");
      }
    }
    problems.AfterScan(cur, "xattrs");
  }

  // --- feed: one entry per object, pointing back at it.
  {
    lmdb::Cursor cur(txn_, t_.feed);
    if (!cur.ok()) return no_cursor("feed");
    for (bool more = cur.First(); more; more = cur.Next()) {
      if (cur.key().size() != 8) {
        problems.Add("a feed key of " + std::to_string(cur.key().size()) + " bytes (8 expected)");
        continue;
      }
      ++report.feed_entries;
      const uint64_t seq = keys::DecodeU64(cur.key());
      max_seq = std::max(max_seq, seq);
      auto change = DecodeChange(seq, cur.value());
      if (!change.ok()) {
        problems.Add("feed entry " + std::to_string(seq) + " cannot be decoded");
        continue;
      }
      auto node = Get(change->ino);
      if (!node.ok()) {
        problems.Add("feed entry " + std::to_string(seq) + " points to " + InodeText(change->ino) +
                     ", which cannot be read");
      } else if (node->seq != seq) {
        problems.Add("feed entry " + std::to_string(seq) + " points to " + InodeText(change->ino) +
                     ", whose entry is " + std::to_string(node->seq));
      }
    }
    problems.AfterScan(cur, "feed");
  }

  // --- objects: each object id maps to the inode that holds it.
  {
    lmdb::Cursor cur(txn_, t_.objects);
    if (!cur.ok()) return no_cursor("objects");
    for (bool more = cur.First(); more; more = cur.Next()) {
      if (cur.key().size() != 16 || cur.value().size() != 8) {
        problems.Add("an objects entry of the wrong shape");
        continue;
      }
      const ObjectId oid{keys::DecodeU64(cur.key().substr(0, 8)),
                         keys::DecodeU64(cur.key().substr(8))};
      const Ino ino = keys::DecodeU64(cur.value());
      auto node = Get(ino);
      if (!node.ok()) {
        problems.Add("object id " + oid.ToString() + " maps to " + InodeText(ino) +
                     ", which cannot be read");
      } else if (node->oid != oid) {
        problems.Add("object id " + oid.ToString() + " maps to " + InodeText(ino) + ", which holds " +
                     node->oid.ToString());
      }
    }
    problems.AfterScan(cur, "objects");
  }

  if (next_ino && *next_ino <= max_ino) {
    problems.Add("the next inode number " + std::to_string(*next_ino) + " is already in use");
  }
  if (next_seq && *next_seq <= max_seq) {
    problems.Add("the next feed seq " + std::to_string(*next_seq) + " is already in use");
  }
  return report;
}

}  // namespace kvfs::store
