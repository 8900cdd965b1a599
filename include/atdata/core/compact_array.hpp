#pragma once
// Compact NDArray encoding (wire format B, later upstream atdata):
//   u8 L | dtype.str (L bytes) | u8 ndim | ndim x int64 LE | C-order data.

#include <cstddef>
#include <vector>

#include "atdata/core/ndarray.hpp"
#include "atdata/core/shared_bytes.hpp"

namespace atdata::compact {

// Zero-copy view into `bytes`. Throws DecodeError when the buffer is shorter
// than the header, the dtype is unknown/object, or the data length does not
// match the shape exactly.
NDArray decode(SharedBytes bytes);

std::size_t encoded_size(const NDArray& array);
std::vector<std::byte> encode(const NDArray& array);
void encode_into(const NDArray& array, std::vector<std::byte>& out);

}  // namespace atdata::compact
