#include "atdata/core/sample_batch.hpp"

#include <algorithm>
#include <cstring>

namespace atdata {

namespace {
std::string shape_text(std::span<const std::int64_t> shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}
}  // namespace

NDArray stack_arrays(std::span<const NDArray* const> items, std::string_view field) {
  if (items.empty()) return NDArray();
  const NDArray& first = *items[0];
  for (std::size_t k = 1; k < items.size(); ++k) {
    const NDArray& a = *items[k];
    if (!(a.dtype() == first.dtype())) {
      throw SchemaError(std::string(field), "cannot stack: sample " + std::to_string(k) + " has dtype " +
                                                a.dtype().str() + ", sample 0 has " + first.dtype().str());
    }
    const auto sa = a.shape();
    const auto sf = first.shape();
    if (sa.size() != sf.size() || !std::equal(sa.begin(), sa.end(), sf.begin())) {
      throw SchemaError(std::string(field), "cannot stack: sample " + std::to_string(k) + " has shape " +
                                                shape_text(sa) + ", sample 0 has " + shape_text(sf));
    }
  }
  std::vector<std::int64_t> shape;
  shape.reserve(first.ndim() + 1);
  shape.push_back(static_cast<std::int64_t>(items.size()));
  shape.insert(shape.end(), first.shape().begin(), first.shape().end());
  // Uninitialised: every byte is written below (zero-filling first cost a
  // fifth of the time of reading large-image batches).
  NDArray out = NDArray::empty(first.dtype(), shape);
  auto dst = out.mutable_bytes();  // freshly owned: no copy-on-write copy
  const std::size_t item = first.nbytes();
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (item) std::memcpy(dst.data() + k * item, items[k]->bytes().data(), item);
  }
  return out;
}

DynamicBatch::DynamicBatch(std::vector<DynamicSample> samples) : samples_(std::move(samples)) {
  if (samples_.empty()) return;
  const DynamicSample& first = samples_.front();
  names_.reserve(first.size());
  for (const auto& f : first.fields()) {
    if (std::find(names_.begin(), names_.end(), f.name) == names_.end()) names_.push_back(f.name);
  }
  stacked_.resize(names_.size());
  std::vector<const NDArray*> items(samples_.size());
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const std::string& name = names_[i];
    bool stack = first.at(name).is_ndarray();
    for (std::size_t k = 0; k < samples_.size(); ++k) {
      const Value* v = samples_[k].find(name);
      if (!v) throw SchemaError(name, "sample " + std::to_string(k) + " of the batch has no such field");
      if (stack) {
        if (!v->is_ndarray()) {
          throw SchemaError(name, "cannot stack: sample " + std::to_string(k) + " holds " +
                                      to_string(v->kind()) + ", sample 0 an ndarray");
        }
        items[k] = &v->as_ndarray();
      }
    }
    if (stack) stacked_[i] = stack_arrays(items, name);
  }
}

std::size_t DynamicBatch::index_of(std::string_view field) const {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == field) return i;
  }
  throw SchemaError(std::string(field), "No sample attribute named " + std::string(field));
}

bool DynamicBatch::is_stacked(std::string_view field) const {
  return stacked_[index_of(field)].has_value();
}

const NDArray& DynamicBatch::array(std::string_view field) const {
  const auto& s = stacked_[index_of(field)];
  if (!s) throw SchemaError(std::string(field), "not an ndarray field (read it as a column)");
  return *s;
}

std::vector<Value> DynamicBatch::column(std::string_view field) const {
  if (samples_.empty()) return {};
  (void)index_of(field);
  std::vector<Value> out;
  out.reserve(samples_.size());
  for (const auto& s : samples_) out.push_back(s.at(field));
  return out;
}

Value DynamicBatch::aggregate(std::string_view field) const {
  if (samples_.empty()) return Value(List{});
  const auto& s = stacked_[index_of(field)];
  if (s) return Value(*s);
  return Value(column(field));
}

}  // namespace atdata
