#include "fs/stale_listings.h"

namespace kvfs::fs {

void StaleListings::Note(const std::vector<store::Link>& told, const std::vector<store::Link>& live,
                         const std::vector<store::Link>& last_names, bool may_have_moved_unseen) {
  if (may_have_moved_unseen) all_ = true;
  for (const store::Link& l : live) {
    if (!store::HasLink(told, l)) dirs_.insert(l.parent);  // a name the listing may lack
  }
  for (const store::Link& l : told) {
    if (!store::HasLink(live, l)) dirs_.insert(l.parent);  // a name the listing may still show
  }
  for (const store::Link& l : last_names) dirs_.insert(l.parent);
}

void StaleListings::Merge(const StaleListings& other) {
  all_ = all_ || other.all_;
  dirs_.insert(other.dirs_.begin(), other.dirs_.end());
}

}  // namespace kvfs::fs
