#include "atdata/core/ndarray.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "core/convert.hpp"

namespace atdata {

namespace {

struct AlignedDelete {
  void operator()(const void* p) const noexcept {
    ::operator delete (const_cast<void*>(p), std::align_val_t{NDArray::kAlignment});
  }
};

std::string shape_text(std::span<const std::int64_t> shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ',';
  return s + ")";
}

}  // namespace

bool checked_shape_size(std::span<const std::int64_t> shape, std::size_t itemsize, std::size_t& count,
                        std::size_t& nbytes) noexcept {
  std::size_t c = 1;
  bool zero = false;
  for (std::int64_t d : shape) {
    if (d < 0) return false;
    if (d == 0) zero = true;
  }
  // A zero dimension makes the product 0 whatever the other dims are, but
  // every dim must still be a sane size_t (they are, being int64 >= 0).
  if (zero) {
    count = 0;
    nbytes = 0;
    return true;
  }
  for (std::int64_t d : shape) {
    if (__builtin_mul_overflow(c, static_cast<std::size_t>(d), &c)) return false;
  }
  std::size_t b;
  if (__builtin_mul_overflow(c, itemsize, &b)) return false;
  // Byte counts must also fit ptrdiff_t so pointer arithmetic is defined.
  if (b > static_cast<std::size_t>(PTRDIFF_MAX)) return false;
  count = c;
  nbytes = b;
  return true;
}

NDArray::NDArray() {
  ndim_ = 1;
  inline_dims_[0] = 0;
}

NDArray::~NDArray() = default;
NDArray::NDArray(NDArray&&) noexcept = default;
NDArray& NDArray::operator=(NDArray&&) noexcept = default;

NDArray::NDArray(const NDArray& o)
    : dtype_(o.dtype_),
      view_(o.view_),
      ndim_(o.ndim_),
      inline_dims_(o.inline_dims_),
      size_(o.size_),
      nbytes_(o.nbytes_),
      data_(o.data_),
      owner_(o.owner_) {
  if (o.heap_dims_) {
    heap_dims_ = std::make_unique<std::int64_t[]>(ndim_);
    std::memcpy(heap_dims_.get(), o.heap_dims_.get(), ndim_ * sizeof(std::int64_t));
  }
}

NDArray& NDArray::operator=(const NDArray& o) {
  if (this != &o) {
    NDArray tmp(o);
    *this = std::move(tmp);
  }
  return *this;
}

void NDArray::set_shape(std::span<const std::int64_t> shape) {
  if (shape.size() > kMaxRank) {
    throw InvalidArgument("NDArray rank " + std::to_string(shape.size()) + " exceeds the maximum of 64");
  }
  std::size_t count = 0, bytes = 0;
  if (!checked_shape_size(shape, dtype_.itemsize(), count, bytes)) {
    throw InvalidArgument("NDArray shape " + shape_text(shape) + " of " + dtype_.str() +
                          " has a negative dimension or is too large");
  }
  ndim_ = static_cast<std::uint8_t>(shape.size());
  if (shape.size() > kInlineRank) {
    heap_dims_ = std::make_unique<std::int64_t[]>(shape.size());
    std::memcpy(heap_dims_.get(), shape.data(), shape.size() * sizeof(std::int64_t));
  } else {
    heap_dims_.reset();
    if (!shape.empty()) std::memcpy(inline_dims_.data(), shape.data(), shape.size() * sizeof(std::int64_t));
  }
  size_ = count;
  nbytes_ = bytes;
}

void NDArray::allocate_owned(std::size_t nbytes, bool zero) {
  view_ = false;
  if (nbytes == 0) {
    data_ = nullptr;
    owner_.reset();
    return;
  }
  void* p = ::operator new (nbytes, std::align_val_t{kAlignment});
  if (zero) std::memset(p, 0, nbytes);
  owner_ = std::shared_ptr<const void>(p, AlignedDelete{});
  data_ = static_cast<const std::byte*>(p);
}

NDArray NDArray::zeros(Dtype dtype, ShapeRef shape) {
  NDArray a;
  a.dtype_ = dtype;
  a.set_shape(shape.span());
  a.allocate_owned(a.nbytes_, true);
  return a;
}

NDArray NDArray::empty(Dtype dtype, ShapeRef shape) {
  NDArray a;
  a.dtype_ = dtype;
  a.set_shape(shape.span());
  a.allocate_owned(a.nbytes_, false);
  return a;
}

NDArray NDArray::view(Dtype dtype, ShapeRef shape, SharedBytes bytes) {
  NDArray a;
  a.dtype_ = dtype;
  a.set_shape(shape.span());
  if (bytes.size() != a.nbytes_) {
    throw InvalidArgument("NDArray::view: " + std::to_string(bytes.size()) + " bytes given, " + a.describe() +
                          " needs " + std::to_string(a.nbytes_));
  }
  a.view_ = true;
  a.data_ = a.nbytes_ ? bytes.data() : nullptr;
  a.owner_ = bytes.owner();
  return a;
}

NDArray NDArray::copy_of(Dtype dtype, ShapeRef shape, std::span<const std::byte> bytes) {
  NDArray a;
  a.dtype_ = dtype;
  a.set_shape(shape.span());
  if (bytes.size() != a.nbytes_) {
    throw InvalidArgument("NDArray::copy_of: " + std::to_string(bytes.size()) + " bytes given, " +
                          a.describe() + " needs " + std::to_string(a.nbytes_));
  }
  a.allocate_owned(a.nbytes_, false);
  if (a.nbytes_) std::memcpy(const_cast<std::byte*>(a.data_), bytes.data(), a.nbytes_);
  return a;
}

bool NDArray::is_aligned() const noexcept {
  return reinterpret_cast<std::uintptr_t>(data_) % dtype_.alignment() == 0;
}

std::span<std::byte> NDArray::mutable_bytes() {
  if (nbytes_ == 0) return {};
  if (view_ || owner_.use_count() != 1) {
    const std::byte* old = data_;
    std::shared_ptr<const void> keep = std::move(owner_);  // old bytes stay alive during the copy
    allocate_owned(nbytes_, false);
    std::memcpy(const_cast<std::byte*>(data_), old, nbytes_);
  }
  return {const_cast<std::byte*>(data_), nbytes_};
}

void NDArray::check_typed_access(Dtype want) const {
  if (dtype_ != want) {
    throw TypeError("typed access as " + want.name() + " (" + want.str() + ") to an array of " +
                    dtype_.str() +
                    (dtype_.kind() == want.kind() ? " (byte order differs: use to_native())" : ""));
  }
  if (!is_aligned()) {
    throw TypeError("typed access to " + describe() +
                    ": data is not aligned for its type (a view into an unaligned buffer); use aligned()");
  }
}

void NDArray::throw_size_mismatch(std::size_t got) const {
  throw InvalidArgument("convert_into: output holds " + std::to_string(got) + " elements, " + describe() +
                        " has " + std::to_string(size_));
}

NDArray NDArray::to(Dtype dtype) const {
  if (dtype == dtype_) return aligned();
  if (!detail::can_convert(dtype_, dtype)) {
    throw TypeError("cannot convert " + dtype_.name() + " (" + dtype_.str() + ") to " + dtype.name() + " (" +
                    dtype.str() + ")");
  }
  NDArray out;
  out.dtype_ = dtype;
  out.set_shape(shape());
  out.allocate_owned(out.nbytes_, false);
  detail::convert_elements(dtype_, data_, dtype, const_cast<std::byte*>(out.data_), size_);
  return out;
}

void NDArray::convert_into(Dtype dtype, std::span<std::byte> out) const {
  std::size_t need = 0;
  if (__builtin_mul_overflow(size_, dtype.itemsize(), &need) || out.size() != need) {
    throw InvalidArgument("convert_into: output holds " + std::to_string(out.size()) + " bytes, " +
                          describe() + " as " + dtype.str() + " needs " + std::to_string(need));
  }
  detail::convert_elements(dtype_, data_, dtype, out.data(), size_);
}

NDArray NDArray::to_native() const {
  if (dtype_.is_native()) return *this;
  return to(dtype_.native());
}

NDArray NDArray::aligned() const {
  if (is_aligned()) return *this;
  return to_owned();
}

NDArray NDArray::to_owned() const {
  NDArray out(*this);
  out.allocate_owned(nbytes_, false);
  if (nbytes_) std::memcpy(const_cast<std::byte*>(out.data_), data_, nbytes_);
  return out;
}

NDArray NDArray::reshape(ShapeRef shape) const {
  NDArray out(*this);
  out.set_shape(shape.span());
  if (out.size_ != size_) {
    throw InvalidArgument("reshape of " + describe() + " to " + shape_text(shape.span()) +
                          " changes the element count");
  }
  return out;
}

bool operator==(const NDArray& a, const NDArray& b) noexcept {
  if (a.dtype_ != b.dtype_) return false;
  const auto sa = a.shape(), sb = b.shape();
  if (sa.size() != sb.size() || !std::equal(sa.begin(), sa.end(), sb.begin())) return false;
  return a.nbytes_ == 0 || a.data_ == b.data_ || std::memcmp(a.data_, b.data_, a.nbytes_) == 0;
}

std::string NDArray::describe() const {
  return dtype_.name() + " " + shape_text(shape());
}

}  // namespace atdata
