#pragma once
// A range of things that read as strings (vector<string>, array<string_view>,
// …) but not a string itself: what the options' list setters accept.

#include <concepts>
#include <ranges>
#include <string_view>

namespace atdata::detail {

template <class R>
concept StringRange = std::ranges::input_range<R> && !std::convertible_to<const R&, std::string_view> &&
                      std::convertible_to<std::ranges::range_reference_t<const R&>, std::string_view>;

}  // namespace atdata::detail
