#pragma once
// The shared part of the options types' chained setters:
//   class FooOptions : public detail::ChainedOptions<FooOptions> { … };
//   FooOptions&& with_name(std::string v) && { return set(name, std::move(v)); }
// Setters exist only on rvalues (an options temporary built inline inside a
// co_await); a named variable is filled member by member.

#include <utility>

namespace atdata::detail {

template <class Self>
class ChainedOptions {
 protected:
  template <class M, class V>
  Self&& set(M& member, V&& value) {
    member = std::forward<V>(value);
    return std::move(static_cast<Self&>(*this));
  }
};

}  // namespace atdata::detail
