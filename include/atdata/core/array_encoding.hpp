#pragma once
// Choosing between the two NDArray byte encodings of the wire format: .npy
// (format A: what seed Python reads and writes; the default) and compact
// (format B: later upstream). Readers detect the format by the .npy magic.

#include <cstddef>
#include <vector>

#include "atdata/core/ndarray.hpp"
#include "atdata/core/shared_bytes.hpp"

namespace atdata {

enum class ArrayEncoding { Npy, Compact };

// Format of an encoded array: Npy if it starts with "\x93NUMPY", else Compact.
ArrayEncoding detect_array_encoding(std::span<const std::byte> bytes) noexcept;

// npy::decode or compact::decode by detection (zero-copy when C-order).
NDArray decode_array(SharedBytes bytes);

std::size_t encoded_array_size(const NDArray& array, ArrayEncoding encoding = ArrayEncoding::Npy);
std::vector<std::byte> encode_array(const NDArray& array, ArrayEncoding encoding = ArrayEncoding::Npy);
void encode_array_into(const NDArray& array, std::vector<std::byte>& out,
                       ArrayEncoding encoding = ArrayEncoding::Npy);

}  // namespace atdata
