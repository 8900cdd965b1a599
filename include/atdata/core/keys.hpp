#pragma once
// Default WebDataset sample keys: the string form of Python's
// `uuid.uuid1(node=0, clock_seq=0)`:
//
//   tttttttt-tttt-1ttt-8000-000000000000
//
// where the 60-bit timestamp is (Unix ns // 100) + 0x01B21DD213814000 and is
// strictly increased by one whenever it would not exceed the previous key's
// timestamp in this process — so keys from one process are unique even when
// generated faster than the 100 ns clock tick. Note: these strings do not
// sort by time (the low time bits come first), exactly as in Python.

#include <cstdint>
#include <string>

namespace atdata {

class KeyGenerator {
 public:
  // Offset between the UUID epoch (1582-10-15) and the Unix epoch, in 100 ns.
  static constexpr std::uint64_t kUuidEpochOffset = 0x01B21DD213814000ULL;

  // Next process-wide strictly increasing timestamp (thread-safe, lock-free).
  static std::uint64_t next_timestamp() noexcept;
  // next_timestamp() formatted: a fresh unique key.
  static std::string next();

  // The key string for a given 60-bit UUID timestamp (pure function).
  static std::string format(std::uint64_t timestamp);
  // The UUID timestamp for a Unix time in nanoseconds (ns // 100 + offset).
  static constexpr std::uint64_t timestamp_from_unix_ns(std::uint64_t unix_ns) noexcept {
    return unix_ns / 100 + kUuidEpochOffset;
  }
};

// KeyGenerator::next(): what Python's `sample.as_wds["__key__"]` would be.
std::string make_uuid1_key();

}  // namespace atdata
