#pragma once
// A full read of a store that checks its tables against each other (`kvfs check`).
//
// It reads every record of every table in one read transaction, so it also finds
// pages LMDB cannot read (a power cut can leave some behind, docs/ARCHITECTURE.md),
// and it checks the invariants every write transaction keeps:
//   - every record decodes, and keys have their table's shape;
//   - a directory entry names a live object of its type, in a live directory, and
//     that object lists the name among its links; every link has its entry;
//   - directories have at most one name; tombstones have no entries;
//   - a content chunk belongs to a regular file and lies inside its size;
//   - the feed has one entry per object that has a seq, pointing back at it;
//   - the objects table maps each object id to the inode that holds it;
//   - the counters in meta are past every ino and seq in use.
// Nothing is changed; it runs beside a mount (one consistent snapshot).

#include <cstdint>
#include <string>
#include <vector>

namespace kvfs::store {

struct CheckReport {
  // What is wrong, one sentence each, at most `max_problems` of them.
  std::vector<std::string> problems;
  uint64_t problem_count = 0;  // all of them, also those not listed
  uint64_t files = 0, dirs = 0, symlinks = 0, tombstones = 0;
  uint64_t names = 0, chunks = 0, content_bytes = 0, xattrs = 0, feed_entries = 0;

  bool sound() const { return problem_count == 0; }
};

}  // namespace kvfs::store
