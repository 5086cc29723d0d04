#pragma once
// Read-ahead for the store's memory map, done by hand.
//
// The map is opened with MDB_NORDAHEAD: B-tree pages are read at random, and with
// the kernel's read-around every cold page fault would read the whole read-ahead
// window around it (8 MiB on a disk with read_ahead_kb=8192), mostly pages of other
// files. Code that knows it will touch a run of pages (a file's content) says so.

#include <string_view>

namespace kvfs::store {

// Asks the kernel to read the pages under `bytes` in the background
// (madvise MADV_WILLNEED). Memory outside the map (a write transaction's own pages)
// is harmless to pass. Never fails: a refused hint only costs speed.
void PrefetchPages(std::string_view bytes);

// Waits until the first page under `bytes` is in memory, by reading one byte of it.
void TouchFirstPage(std::string_view bytes);

}  // namespace kvfs::store
