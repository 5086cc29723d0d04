#pragma once
// One-time libsodium initialisation for the crypto layer.
//
// Every function in kvfs::crypto that needs libsodium calls EnsureInit() itself, so
// callers never have to remember to. A program may still call Init() early (e.g. in
// main) to report a broken libsodium as a clean error instead of an abort later.

#include "base/status.h"

namespace kvfs::crypto {

// Initialises libsodium once. Thread-safe and idempotent: later calls return the
// result of the first. Fails (kIo) only when libsodium cannot initialise, which means
// no usable CSPRNG; nothing in this layer may be used then.
Status Init();

// Init(), but aborts the process with a message on failure. Used inside functions that
// return values rather than Status: continuing without a working CSPRNG would silently
// produce weak keys, so failing closed is the only safe option.
void EnsureInit();

}  // namespace kvfs::crypto
