#include "fs/node_table.h"

#include <algorithm>

namespace kvfs::fs {
namespace {

void AddLink(std::vector<store::Link>& names, store::Ino parent, std::string_view name,
             size_t max) {
  store::Link link{parent, std::string(name)};
  if (std::find(names.begin(), names.end(), link) != names.end()) return;
  if (names.size() >= max) names.erase(names.begin());
  names.push_back(std::move(link));
}

}  // namespace

void NodeTable::Remember(store::Ino ino, store::Ino parent, std::string_view name) {
  std::lock_guard lock(mu_);
  Node& n = nodes_[ino];
  ++n.nlookup;
  AddLink(n.names, parent, name, kMaxNames);
}

void NodeTable::AddName(store::Ino ino, store::Ino parent, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it != nodes_.end()) AddLink(it->second.names, parent, name, kMaxNames);
}

void NodeTable::DropName(store::Ino ino, store::Ino parent, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return;
  auto& names = it->second.names;
  names.erase(std::remove(names.begin(), names.end(), store::Link{parent, std::string(name)}),
              names.end());
}

bool NodeTable::EraseIfIdle(std::unordered_map<store::Ino, Node>::iterator it) {
  if (!Idle(it->second)) return false;
  const bool purge = it->second.maybe_deleted;
  nodes_.erase(it);
  return purge;
}

bool NodeTable::Forget(store::Ino ino, uint64_t n) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return false;
  it->second.nlookup -= std::min(n, it->second.nlookup);
  return EraseIfIdle(it);
}

void NodeTable::Open(store::Ino ino) {
  std::lock_guard lock(mu_);
  ++nodes_[ino].open;
}

bool NodeTable::Release(store::Ino ino) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return false;
  if (it->second.open > 0) --it->second.open;
  return EraseIfIdle(it);
}

bool NodeTable::MarkDeleted(store::Ino ino) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return true;
  it->second.maybe_deleted = true;
  return false;
}

bool NodeTable::Known(store::Ino ino) const {
  if (ino == store::kRootIno) return true;
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  return it != nodes_.end() && it->second.nlookup > 0;
}

std::vector<store::Link> NodeTable::Names(store::Ino ino) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? std::vector<store::Link>() : it->second.names;
}

void NodeTable::SetNames(store::Ino ino, std::vector<store::Link> names) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it != nodes_.end()) it->second.names = std::move(names);
}

void NodeTable::Listed(store::Ino dir) {
  std::lock_guard lock(mu_);
  if (dir == store::kRootIno) {
    root_listed_ = true;
    return;
  }
  auto it = nodes_.find(dir);
  if (it != nodes_.end()) it->second.listed = true;
}

std::vector<store::Ino> NodeTable::ListedDirs() const {
  std::lock_guard lock(mu_);
  std::vector<store::Ino> dirs;
  if (root_listed_) dirs.push_back(store::kRootIno);
  for (const auto& [ino, node] : nodes_) {
    if (node.listed && node.nlookup > 0) dirs.push_back(ino);
  }
  return dirs;
}

size_t NodeTable::size() const {
  std::lock_guard lock(mu_);
  return nodes_.size();
}

}  // namespace kvfs::fs
