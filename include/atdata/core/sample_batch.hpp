#pragma once
// Batches of decoded samples (Python `SampleBatch`).
//
// SampleBatch<T> (typed) and DynamicBatch hold the samples and, built once at
// construction, one contiguous NDArray per array field with a leading batch
// dimension: shape (N, *item_shape), one memcpy per sample. Items whose
// dtype or shape differ make the constructor throw SchemaError naming the
// field (Python fails on ragged stacking too, only later). Other fields are
// read as columns: a std::vector of the N values in sample order — scalars
// are never stacked into arrays.
//
//   SampleBatch<ImageSample> b(std::move(samples));
//   const NDArray& images = b.stacked<&ImageSample::image>();   // (N, H, W)
//   std::vector<std::string> labels = b.column<&ImageSample::label>();
//   const NDArray& same = b.array("image");                      // by name
//
// An empty batch has empty columns; its stacked arrays are default NDArrays
// (float64, shape (0,)), the closest thing to Python's empty list.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/ndarray.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/core/value.hpp"

namespace atdata {

// Stacks equally shaped, equally typed arrays into one owned C-order array of
// shape (items.size(), *item_shape). SchemaError naming `field` on a
// dtype/shape mismatch (the message names the first differing sample).
NDArray stack_arrays(std::span<const NDArray* const> items, std::string_view field);

template <DescribedSample T>
class SampleBatch {
  static constexpr std::size_t N = detail::member_count<T>;

 public:
  using sample_type = T;

  SampleBatch() = default;
  explicit SampleBatch(std::vector<T> samples) : samples_(std::move(samples)) { stack_all(); }

  const std::vector<T>& samples() const noexcept { return samples_; }
  std::size_t size() const noexcept { return samples_.size(); }
  bool empty() const noexcept { return samples_.empty(); }
  const T& operator[](std::size_t i) const { return samples_.at(i); }

  // The stacked array of an NDArray member.
  template <auto Member>
  const NDArray& stacked() const noexcept {
    constexpr std::size_t i = detail::member_index<T, Member>();
    static_assert(i < N, "stacked<>: not a described member of the sample type");
    static_assert(
        std::is_base_of_v<NDArray, detail::member_of<boost::mp11::mp_at_c<detail::members_t<T>, i>>>,
        "stacked<>: the member is not an atdata::NDArray (use column<>)");
    return stacked_[i];
  }

  // The values of a member, one per sample (a copy; arrays share storage).
  template <auto Member>
  auto column() const {
    constexpr std::size_t i = detail::member_index<T, Member>();
    static_assert(i < N, "column<>: not a described member of the sample type");
    using M = detail::member_of<boost::mp11::mp_at_c<detail::members_t<T>, i>>;
    std::vector<M> out;
    out.reserve(samples_.size());
    for (const auto& s : samples_) out.push_back(s.*Member);
    return out;
  }

  // Stacked array by field name. SchemaError("No sample attribute named …")
  // for an unknown name, SchemaError for a field that is not an NDArray.
  const NDArray& array(std::string_view field) const {
    const std::size_t i = detail::find_member<T>(field, 0);
    if (i == N) throw SchemaError(std::string(field), "No sample attribute named " + std::string(field));
    if (!is_array_member(i))
      throw SchemaError(std::string(field), "not an NDArray field (read it as a column)");
    return stacked_[i];
  }

 private:
  static bool is_array_member(std::size_t i) {
    bool r = false;
    boost::mp11::mp_for_each<boost::mp11::mp_iota_c<N>>([&](auto I) {
      using D = boost::mp11::mp_at_c<detail::members_t<T>, I>;
      if (I == i) r = std::is_base_of_v<NDArray, detail::member_of<D>>;
    });
    return r;
  }

  void stack_all() {
    if (samples_.empty()) return;
    std::vector<const NDArray*> items(samples_.size());
    boost::mp11::mp_for_each<boost::mp11::mp_iota_c<N>>([&](auto I) {
      using D = boost::mp11::mp_at_c<detail::members_t<T>, I>;
      if constexpr (std::is_base_of_v<NDArray, detail::member_of<D>>) {
        for (std::size_t k = 0; k < samples_.size(); ++k) items[k] = &(samples_[k].*D::pointer);
        stacked_[I] = stack_arrays(items, detail::member_names<T>[I]);
      }
    });
  }

  std::vector<T> samples_;
  std::array<NDArray, N> stacked_{};
};

// Batch of DynamicSamples. Field names come from the first sample's schema
// (or its stored fields when schemaless); every sample must have them. A
// field whose first value is an NDArray is stacked (all values must then be
// NDArrays of one dtype and shape), as Python decides by the first value.
class DynamicBatch {
 public:
  DynamicBatch() = default;
  explicit DynamicBatch(std::vector<DynamicSample> samples);

  const std::vector<DynamicSample>& samples() const noexcept { return samples_; }
  std::size_t size() const noexcept { return samples_.size(); }
  bool empty() const noexcept { return samples_.empty(); }
  const std::vector<std::string>& field_names() const noexcept { return names_; }

  // True when the field was stacked into one array.
  bool is_stacked(std::string_view field) const;
  // The stacked array; SchemaError for unknown or non-stacked fields.
  const NDArray& array(std::string_view field) const;
  // The N values of a field in sample order (arrays not stacked).
  std::vector<Value> column(std::string_view field) const;
  // Python's `batch.<field>`: the stacked NDArray, or a List of the values.
  Value aggregate(std::string_view field) const;

 private:
  std::size_t index_of(std::string_view field) const;

  std::vector<DynamicSample> samples_;
  std::vector<std::string> names_;
  std::vector<std::optional<NDArray>> stacked_;  // per field in names_
};

}  // namespace atdata
