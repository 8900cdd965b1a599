#pragma once
// Element conversion between dtypes, used by NDArray::to / convert_into.
// Pointers need no alignment; sizes are already validated by the caller.

#include <cstddef>

#include "atdata/core/dtype.hpp"

namespace atdata::detail {

// True when convert_elements supports src -> dst.
bool can_convert(const Dtype& src, const Dtype& dst) noexcept;

// Converts n elements. Either dtype may be in any byte order. Identical
// dtypes (including strings) are copied; strings otherwise only change order.
void convert_elements(const Dtype& src, const std::byte* in, const Dtype& dst, std::byte* out, std::size_t n);

// Reverses the byte order of n elements of `dtype` (per component for
// complex, per UCS-4 unit for U, nothing for 1-byte kinds and S). in == out ok.
void byteswap_elements(const Dtype& dtype, const std::byte* in, std::byte* out, std::size_t n);

}  // namespace atdata::detail
