#include "crypto/init.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace kvfs::crypto {

Status Init() {
  // A function-local static is initialised exactly once even under concurrent callers.
  static const int rc = sodium_init();
  if (rc < 0) {
    return Status(Code::kIo, "libsodium failed to initialise (no usable random source?)");
  }
  return Status::Ok();
}

void EnsureInit() {
  Status st = Init();
  if (!st.ok()) {
    std::fprintf(stderr, "kvfs: fatal: %s\n", st.message().c_str());
    std::abort();
  }
}

}  // namespace kvfs::crypto
