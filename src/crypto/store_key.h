#pragma once
// The store key: the one secret shared by every machine that syncs a store.
//
// It is 32 bytes from the OS CSPRNG. Knowing it is what makes a peer a member of the
// store: the handshake (handshake.h) mixes it into every session key, so a peer without
// it can neither read nor forge traffic.
//
// Text form (what `kvfs key show` prints and `kvfs key set` accepts):
//   "kvfs1-" + base64url(key) without padding   -> 6 + 43 = 49 printable characters.
// The "kvfs1-" prefix names the format version and makes a pasted key recognisable.
// The key file holds exactly that text plus a newline, mode 0600.
//
// Logging rule: never log a key or its text form; log KeyFingerprint() instead.

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secret.h"

namespace kvfs::crypto {

inline constexpr std::size_t kStoreKeySize = 32;
using StoreKey = SecretBytes<kStoreKeySize>;

// Prefix of the text form; the digit is the format version.
inline constexpr std::string_view kStoreKeyPrefix = "kvfs1-";
// Length of the text form, prefix included (no trailing newline).
inline constexpr std::size_t kStoreKeyTextSize = kStoreKeyPrefix.size() + 43;

// A fresh random key. Aborts only if libsodium cannot initialise (see init.h).
StoreKey GenerateStoreKey();

// Whether WriteStoreKeyFile may replace an existing file.
enum class Overwrite { kNo, kYes };

// Writes the key's text form to `path`, created with mode 0600 whatever the umask.
// Atomic: the text goes to a fresh temporary file beside `path` (O_EXCL, 0600), which is
// fsynced and renamed into place, then the directory is fsynced; a crash leaves either
// the old file or the new one, never a partial key, and no stray temporary on success.
// Errors: kExists when `path` exists and overwrite is kNo; kIo (with the path and
// strerror) when a system call fails.
Status WriteStoreKeyFile(const std::string& path, const StoreKey& key,
                         Overwrite overwrite = Overwrite::kNo);

// Reads a key file written by WriteStoreKeyFile (or by hand: surrounding whitespace is
// tolerated). Errors, each naming the path:
//   kNotFound    the file does not exist;
//   kPermission  group or others have any access (message says to `chmod 600`);
//   kAccess      this process may not read the file;
//   kInvalid     not a regular file, wrong length, or not a valid key text;
//   kVersion     a key text of a newer format ("kvfs2-...");
//   kIo          a system call failed.
Result<StoreKey> ReadStoreKeyFile(const std::string& path);

// The text form of `key`. The result is as secret as the key: print it only where the
// user asked for it (`kvfs key show`), never into a log.
std::string EncodeStoreKey(const StoreKey& key);

// Parses the text form. Leading/trailing whitespace (spaces, tabs, CR, LF) is ignored.
// Errors (messages never echo the input, which may be a real key):
//   kInvalid  empty, wrong prefix, wrong length, a character outside base64url, or
//             non-canonical trailing bits;
//   kVersion  prefix "kvfsN-" with N other than 1.
Result<StoreKey> DecodeStoreKey(std::string_view text);

// A short, non-secret identifier of the key: 16 lowercase hex characters (the first
// 8 bytes of BLAKE2b keyed with the key over a fixed domain string). Equal keys give
// equal fingerprints; it reveals nothing usable about the key. Safe to log and to show
// in `kvfs status` so users can check two machines hold the same key.
std::string KeyFingerprint(const StoreKey& key);

}  // namespace kvfs::crypto
