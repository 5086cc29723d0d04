#pragma once
// Wire (and parking-table) encoding of an ObjectState. Decoding checks every count
// and length against a limit and against the bytes that remain before allocating,
// validates names and types, and requires chunk indexes to be strictly increasing, so
// hostile input is rejected with Corruption and never allocates more than it carries.
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "sync/object_state.h"

namespace kvfs::sync {

inline constexpr uint8_t kObjectCodecVersion = 1;
inline constexpr size_t kMaxLinks = 4096;
inline constexpr size_t kMaxVersionSlots = 4096;
inline constexpr size_t kMaxXattrs = 4096;

void EncodeObject(const ObjectState& s, ByteWriter& w);
std::string EncodeObject(const ObjectState& s);
Status DecodeObject(ByteReader& r, ObjectState* out);
Result<ObjectState> DecodeObject(std::string_view bytes);

}  // namespace kvfs::sync
