#pragma once
// SHA-256 (OpenSSL EVP) as lowercase hex, for comparing bytes against the
// digests recorded in the golden fixtures.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace atdata::test {

std::string sha256_hex(std::span<const std::byte> bytes);
std::string sha256_hex(std::string_view bytes);

}  // namespace atdata::test
