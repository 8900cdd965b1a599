#include "atdata/core/dynamic_sample.hpp"

#include "atdata/core/array_encoding.hpp"
#include "atdata/core/sample.hpp"

namespace atdata {

namespace {

[[noreturn]] void throw_kind(std::string_view field, const FieldType& t, const msgpack::Reader& r) {
  throw SchemaError(std::string(field), "expected " + t.describe() + ", got msgpack " + r.peek_name() +
                                            " (at byte " + std::to_string(r.offset()) + ")");
}

const FieldType& any_type() {
  static const FieldType t = FieldType::any();
  return t;
}

}  // namespace

Value read_typed_value(msgpack::Reader& r, const FieldType& t, bool optional, std::string_view field) {
  const auto ty = r.peek();
  if (ty == msgpack::Type::nil) {
    if (optional || t.kind == FieldKind::any) {
      r.read_nil();
      return {};
    }
    throw SchemaError(std::string(field), "null in a non-optional " + t.describe() + " field (at byte " +
                                              std::to_string(r.offset()) + ")");
  }
  switch (t.kind) {
    case FieldKind::str:
      if (ty != msgpack::Type::str) throw_kind(field, t, r);
      return Value(std::string(r.read_str()));
    case FieldKind::int_:
      if (ty != msgpack::Type::integer) throw_kind(field, t, r);
      return Value(r.read_integer());
    case FieldKind::float_:
      // An int stays an int so that re-packing reproduces the input bytes.
      if (ty == msgpack::Type::integer) return Value(r.read_integer());
      if (ty != msgpack::Type::float32 && ty != msgpack::Type::float64) throw_kind(field, t, r);
      return Value(r.read_double());
    case FieldKind::bool_:
      if (ty != msgpack::Type::boolean) throw_kind(field, t, r);
      return Value(r.read_bool());
    case FieldKind::bytes:
      if (ty != msgpack::Type::bin) throw_kind(field, t, r);
      return Value(r.read_bin_shared());
    case FieldKind::ndarray: {
      if (ty != msgpack::Type::bin) throw_kind(field, t, r);
      const auto start = r.offset();
      const auto b = r.read_bin();
      try {
        return Value(detail::decode_array_memo(r.share(b)));
      } catch (const DecodeError& e) {
        throw DecodeError(std::string(field), "bin value at byte " + std::to_string(start) + ": " + e.what(),
                          std::nullopt);
      }
    }
    case FieldKind::list: {
      if (ty != msgpack::Type::array) throw_kind(field, t, r);
      const auto n = r.read_array_header();
      const FieldType& items = t.items ? *t.items : any_type();
      List l;
      l.reserve(msgpack::reserve_hint(n));
      for (std::uint32_t i = 0; i < n; ++i) l.push_back(read_typed_value(r, items, false, field));
      return Value(std::move(l));
    }
    case FieldKind::any:
      return msgpack::read_value(r);
  }
  throw_kind(field, t, r);
}

void check_value(const Value& v, const FieldType& t, bool optional, std::string_view field) {
  if (v.is_null()) {
    if (optional || t.kind == FieldKind::any) return;
    throw SchemaError(std::string(field), "null in a non-optional " + t.describe() + " field");
  }
  bool ok = false;
  switch (t.kind) {
    case FieldKind::str:
      ok = v.is_str();
      break;
    case FieldKind::int_:
      ok = v.is_int();
      break;
    case FieldKind::float_:
      ok = v.is_float() || v.is_int();
      break;
    case FieldKind::bool_:
      ok = v.is_bool();
      break;
    case FieldKind::bytes:
      ok = v.is_bytes();
      break;
    case FieldKind::ndarray:
      ok = v.is_ndarray();
      break;
    case FieldKind::list:
      ok = v.is_list();
      if (ok) {
        const FieldType& items = t.items ? *t.items : any_type();
        for (const auto& e : v.as_list()) check_value(e, items, false, field);
      }
      break;
    case FieldKind::any:
      ok = true;
      break;
  }
  if (!ok) {
    throw SchemaError(std::string(field), "expected " + t.describe() + ", got " + to_string(v.kind()));
  }
}

DynamicSample::DynamicSample(std::shared_ptr<const SampleSchema> schema) : schema_(std::move(schema)) {
  if (!schema_) throw InvalidArgument("DynamicSample: null schema");
  fields_.reserve(schema_->size());
  for (const auto& f : schema_->fields()) fields_.push_back({f.name, Value()});
}

DynamicSample DynamicSample::unpack_from(std::shared_ptr<const SampleSchema> schema, msgpack::Reader& r) {
  DynamicSample s;
  if (!schema) {
    const auto n = r.read_map_header();
    s.fields_.reserve(msgpack::reserve_hint(n));
    for (std::uint32_t i = 0; i < n; ++i) {
      if (r.peek() != msgpack::Type::str) {
        throw DecodeError(std::string("packed sample: map key must be str, got ") + r.peek_name(),
                          r.offset());
      }
      std::string key(r.read_str());
      // Duplicates are kept as stored (so re-packing is exact); lookups see
      // the last one, as a Python dict would.
      s.fields_.push_back({std::move(key), msgpack::read_value(r)});
    }
    return s;
  }
  s = DynamicSample(std::move(schema));
  const SampleSchema& sc = *s.schema_;
  std::vector<bool> seen(sc.size());
  const auto n = r.read_map_header();
  for (std::uint32_t i = 0; i < n; ++i) {
    if (r.peek() != msgpack::Type::str) {
      throw DecodeError(std::string("packed sample: map key must be str, got ") + r.peek_name(), r.offset());
    }
    const auto key = r.read_str();
    // Declaration order is the common case: probe position i first.
    std::size_t idx;
    if (i < sc.size() && sc.field(i).name == key) {
      idx = i;
    } else if (auto j = sc.index_of(key)) {
      idx = *j;
    } else {
      throw SchemaError(std::string(key), "unknown field (not in schema '" + sc.name() + "')");
    }
    const auto& f = sc.field(idx);
    s.fields_[idx].value = read_typed_value(r, f.type, f.optional, f.name);
    seen[idx] = true;
  }
  for (std::size_t i = 0; i < sc.size(); ++i) {
    if (!seen[i] && !sc.field(i).optional) throw SchemaError(sc.field(i).name, "missing required field");
  }
  return s;
}

DynamicSample DynamicSample::unpack(std::shared_ptr<const SampleSchema> schema, const SharedBytes& packed) {
  if (!schema) throw InvalidArgument("DynamicSample::unpack: null schema");
  msgpack::Reader r(packed);
  auto s = unpack_from(std::move(schema), r);
  r.expect_end();
  return s;
}
DynamicSample DynamicSample::unpack(std::shared_ptr<const SampleSchema> schema,
                                    std::span<const std::byte> packed) {
  if (!schema) throw InvalidArgument("DynamicSample::unpack: null schema");
  msgpack::Reader r(packed);
  auto s = unpack_from(std::move(schema), r);
  r.expect_end();
  return s;
}
DynamicSample DynamicSample::unpack(const SharedBytes& packed) {
  msgpack::Reader r(packed);
  auto s = unpack_from(nullptr, r);
  r.expect_end();
  return s;
}
DynamicSample DynamicSample::unpack(std::span<const std::byte> packed) {
  msgpack::Reader r(packed);
  auto s = unpack_from(nullptr, r);
  r.expect_end();
  return s;
}

const Value* DynamicSample::find(std::string_view name) const noexcept {
  for (auto it = fields_.rbegin(); it != fields_.rend(); ++it) {
    if (it->name == name) return &it->value;
  }
  return nullptr;
}

const Value& DynamicSample::at(std::string_view name) const {
  if (const auto* v = find(name)) return *v;
  throw SchemaError(std::string(name), "no such field in the sample" +
                                           (schema_ ? " (schema '" + schema_->name() + "')" : std::string()));
}

void DynamicSample::set(std::string_view name, Value value) {
  for (auto it = fields_.rbegin(); it != fields_.rend(); ++it) {
    if (it->name == name) {
      it->value = std::move(value);
      return;
    }
  }
  if (schema_) throw SchemaError(std::string(name), "no such field in schema '" + schema_->name() + "'");
  fields_.push_back({std::string(name), std::move(value)});
}

void DynamicSample::pack_into(std::vector<std::byte>& out) const {
  if (schema_) {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const auto& f = schema_->field(i);
      check_value(fields_[i].value, f.type, f.optional, f.name);
    }
  }
  msgpack::Writer w(out);
  w.write_map_header(fields_.size());
  for (const auto& f : fields_) {
    w.write_str(f.name);
    msgpack::write_value(w, f.value);
  }
}

std::vector<std::byte> DynamicSample::pack() const {
  std::vector<std::byte> out;
  pack_into(out);
  return out;
}

Value DynamicSample::to_value() const {
  Map m;
  m.reserve(fields_.size());
  for (const auto& f : fields_) m.emplace_back(f.name, f.value);
  return Value(std::move(m));
}

bool operator==(const DynamicSample& a, const DynamicSample& b) noexcept {
  if (a.fields_.size() != b.fields_.size()) return false;
  for (std::size_t i = 0; i < a.fields_.size(); ++i) {
    if (a.fields_[i].name != b.fields_[i].name || !(a.fields_[i].value == b.fields_[i].value)) return false;
  }
  return true;
}

}  // namespace atdata
