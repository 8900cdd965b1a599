#pragma once
// NDArray: an n-dimensional, C-order (row-major), contiguous array of one
// Dtype. Its bytes are either
//   * owned: a 64-byte aligned allocation made by this library, or
//   * a view: a zero-copy sub-range of a SharedBytes (e.g. the data part of a
//     .npy value inside a msgpack sample inside a shard chunk), which keeps
//     the source buffer alive for as long as the array exists.
// Copies are cheap (they share the bytes); mutation goes through
// mutable_bytes(), which copies first when the bytes are a view or shared
// (copy-on-write), so NDArray behaves as a value.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "atdata/core/dtype.hpp"
#include "atdata/core/shared_bytes.hpp"
#include "atdata/error.hpp"

namespace atdata {

// A borrowed list of dimensions, so callers can pass `{2, 3}`, a vector or a
// span without the API committing to one container.
class ShapeRef {
 public:
  ShapeRef(std::initializer_list<std::int64_t> dims) noexcept : dims_(dims.begin(), dims.size()) {}
  ShapeRef(std::span<const std::int64_t> dims) noexcept : dims_(dims) {}
  ShapeRef(const std::vector<std::int64_t>& dims) noexcept : dims_(dims) {}
  std::span<const std::int64_t> span() const noexcept { return dims_; }

 private:
  std::span<const std::int64_t> dims_;
};

class NDArray {
 public:
  // Ranks above this are refused (numpy's own limit is 64).
  static constexpr std::size_t kMaxRank = 64;
  // Ranks up to this are stored inline (no heap allocation for the shape).
  static constexpr std::size_t kInlineRank = 8;
  // Alignment of owned allocations.
  static constexpr std::size_t kAlignment = 64;

  // An empty float64 array of shape (0,).
  NDArray();

  // Owned, zero-filled. Throws InvalidArgument for negative dims, rank > 64,
  // string dtypes of size 0, or a byte size that overflows.
  static NDArray zeros(Dtype dtype, ShapeRef shape);
  // Owned, uninitialised (numpy's np.empty): for callers that overwrite every
  // byte, e.g. stacking a batch. Same validation as zeros().
  static NDArray empty(Dtype dtype, ShapeRef shape);
  // Zero-copy view onto `bytes`, which must hold exactly size*itemsize bytes
  // (throws InvalidArgument otherwise). No alignment requirement.
  static NDArray view(Dtype dtype, ShapeRef shape, SharedBytes bytes);
  // Owned copy of `bytes` (exactly size*itemsize of them).
  static NDArray copy_of(Dtype dtype, ShapeRef shape, std::span<const std::byte> bytes);
  template <class T>
  static NDArray from_span(std::span<const T> data, ShapeRef shape) {
    return copy_of(Dtype::of<T>(), shape, std::as_bytes(data));
  }
  // 1-d copy.
  template <class T>
  static NDArray from_span(std::span<const T> data) {
    const std::int64_t n = static_cast<std::int64_t>(data.size());
    return copy_of(Dtype::of<T>(), {n}, std::as_bytes(data));
  }

  const Dtype& dtype() const noexcept { return dtype_; }
  std::span<const std::int64_t> shape() const noexcept { return {dims(), ndim_}; }
  std::size_t ndim() const noexcept { return ndim_; }
  // Number of elements (1 for 0-d arrays).
  std::size_t size() const noexcept { return size_; }
  std::size_t nbytes() const noexcept { return nbytes_; }
  std::span<const std::byte> bytes() const noexcept { return {data_, nbytes_}; }
  // The bytes as a SharedBytes sharing this array's storage (no copy), e.g.
  // for writing them out. Holding it makes a later mutable_bytes() copy.
  SharedBytes shared_bytes() const noexcept { return SharedBytes(owner_, bytes()); }

  // True when the bytes live in a buffer this array did not allocate.
  bool is_view() const noexcept { return view_; }
  // True when the data address is aligned for the dtype (always for owned).
  bool is_aligned() const noexcept;

  // Writable bytes. Copy-on-write: a view, or owned bytes shared with another
  // NDArray/SharedBytes, is first copied into a fresh owned buffer, so no
  // other array ever observes the write and source buffers stay read-only.
  std::span<std::byte> mutable_bytes();

  // Typed read access. Throws TypeError unless dtype() == Dtype::of<T>() in
  // native order and the data is aligned for T (a view into an unaligned
  // buffer: use aligned(), to<T>() or convert_into()).
  template <class T>
  std::span<const T> view() const {
    check_typed_access(Dtype::of<T>());
    return {reinterpret_cast<const T*>(data_), size_};
  }
  template <class T>
  std::span<T> mutable_view() {
    check_typed_access(Dtype::of<T>());
    auto b = mutable_bytes();
    return {reinterpret_cast<T*>(b.data()), size_};
  }

  // Value conversion to another numeric dtype (result in native order, C
  // order, same shape). Integer<-integer wraps like numpy's astype; float ->
  // integer truncates toward zero, NaN -> 0 and out-of-range values saturate
  // (numpy leaves those undefined); anything -> bool is `!= 0`; complex
  // converts only to complex; real -> complex gets a zero imaginary part.
  // Returns *this (sharing) when nothing changes and the data is aligned.
  NDArray to(Dtype dtype) const;
  template <class T>
  NDArray to() const {
    return to(Dtype::of<T>());
  }
  // As to(), writing into caller memory (exactly size() elements; no
  // allocation). Throws InvalidArgument on a size mismatch, TypeError for an
  // unsupported pair.
  void convert_into(Dtype dtype, std::span<std::byte> out) const;
  template <class T>
  void convert_into(std::span<T> out) const {
    if (out.size() != size_) throw_size_mismatch(out.size());
    convert_into(Dtype::of<T>(), std::as_writable_bytes(out));
  }

  // Same dtype in native byte order (a byte-swapped owned copy if needed,
  // otherwise *this). Works for string dtypes too.
  NDArray to_native() const;
  // *this if aligned, otherwise an owned (aligned) copy.
  NDArray aligned() const;
  // An owned copy that no longer references any source buffer.
  NDArray to_owned() const;
  // Same bytes, new shape with the same element count (shares storage).
  NDArray reshape(ShapeRef shape) const;

  // dtype, shape and bytes equal (so NaNs with equal bits compare equal).
  friend bool operator==(const NDArray& a, const NDArray& b) noexcept;

  // "float32 (2, 3)": for error messages.
  std::string describe() const;

  NDArray(const NDArray&);
  NDArray& operator=(const NDArray&);
  NDArray(NDArray&&) noexcept;
  NDArray& operator=(NDArray&&) noexcept;
  ~NDArray();

 private:
  const std::int64_t* dims() const noexcept { return heap_dims_ ? heap_dims_.get() : inline_dims_.data(); }
  void set_shape(std::span<const std::int64_t> shape);  // validates, sets size_
  void check_typed_access(Dtype want) const;
  [[noreturn]] void throw_size_mismatch(std::size_t got) const;
  void allocate_owned(std::size_t nbytes, bool zero);

  Dtype dtype_;
  bool view_ = false;
  std::uint8_t ndim_ = 0;
  std::array<std::int64_t, kInlineRank> inline_dims_{};
  std::unique_ptr<std::int64_t[]> heap_dims_;  // only when ndim_ > kInlineRank
  std::size_t size_ = 0;
  std::size_t nbytes_ = 0;
  const std::byte* data_ = nullptr;
  std::shared_ptr<const void> owner_;  // keeps data_ alive
};

// Checked helpers for sizes that come from the wire: element count of a shape
// and its byte size; false on negative dims or overflow of std::size_t.
bool checked_shape_size(std::span<const std::int64_t> shape, std::size_t itemsize, std::size_t& count,
                        std::size_t& nbytes) noexcept;

}  // namespace atdata
