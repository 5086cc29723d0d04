// Read-ahead hints for the store's map (see prefetch.h).
#include "store/prefetch.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace kvfs::store {
namespace {

uintptr_t PageSize() {
  static const uintptr_t size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

void PrefetchPages(std::string_view bytes) {
  if (bytes.empty()) return;
  const uintptr_t page = PageSize();
  const uintptr_t begin = reinterpret_cast<uintptr_t>(bytes.data()) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size();
  // The result is ignored on purpose: a hint that is refused costs nothing but time.
  (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);
}

void TouchFirstPage(std::string_view bytes) {
  if (bytes.empty()) return;
  // volatile: the read must happen although its value is not used.
  [[maybe_unused]] volatile char first = *static_cast<const volatile char*>(bytes.data());
}

}  // namespace kvfs::store
