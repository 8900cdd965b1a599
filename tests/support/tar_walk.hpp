#pragma once
// Test-only tar member walker (ustar + PAX 'x'/'g' headers): enough to pull
// the fixture shards' members out for byte-level tests of the layers below
// the real tar reader (src/io). Members are zero-copy slices of the archive.

#include <string>
#include <vector>

#include "atdata/core/shared_bytes.hpp"

namespace atdata::test {

struct TarMember {
  std::string name;
  SharedBytes data;
};

// Regular-file members in archive order. Throws std::runtime_error on a
// malformed archive (bad checksum, size beyond the end).
std::vector<TarMember> tar_members(const SharedBytes& archive);

// Reads a whole file (std::runtime_error if it cannot).
SharedBytes read_file(const std::string& path);

}  // namespace atdata::test
