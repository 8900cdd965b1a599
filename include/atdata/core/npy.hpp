#pragma once
// numpy `.npy` encoding of an NDArray (wire format A): what Python atdata's
// seed writes for every ndarray field. Decoding is zero-copy for C-order data;
// encoding is byte-identical to numpy's `np.save` (format 1.0).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atdata/core/ndarray.hpp"
#include "atdata/core/shared_bytes.hpp"

namespace atdata::npy {

// "\x93NUMPY"
inline constexpr std::byte kMagic[6] = {std::byte{0x93}, std::byte{'N'}, std::byte{'U'},
                                        std::byte{'M'},  std::byte{'P'}, std::byte{'Y'}};

// True when `bytes` starts with the .npy magic.
bool has_magic(std::span<const std::byte> bytes) noexcept;

// Parses a .npy file (versions 1.0, 2.0, 3.0). C-order data becomes a
// zero-copy view into `bytes`; Fortran-order data is transposed into an owned
// C-order array. Throws DecodeError (what is wrong + byte offset) for bad
// magic/version, malformed header dict, unsupported or object dtypes,
// negative/overflowing shapes, and data shorter or longer than the shape needs.
NDArray decode(SharedBytes bytes);

// Exactly what encode() produces, without producing it.
std::size_t encoded_size(const NDArray& array);
// np.save(..., version 1.0) bytes: header text
// "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", numpy's growth
// room and padding to a multiple of 64, then the C-order data.
std::vector<std::byte> encode(const NDArray& array);
// Appends encode(array) to `out` (one reserve, no temporaries).
void encode_into(const NDArray& array, std::vector<std::byte>& out);

}  // namespace atdata::npy
