#include "atdata/core/sample_schema.hpp"

#include "atdata/error.hpp"

namespace atdata {

const char* to_string(FieldKind k) noexcept {
  switch (k) {
    case FieldKind::str:
      return "str";
    case FieldKind::int_:
      return "int";
    case FieldKind::float_:
      return "float";
    case FieldKind::bool_:
      return "bool";
    case FieldKind::bytes:
      return "bytes";
    case FieldKind::ndarray:
      return "ndarray";
    case FieldKind::list:
      return "list";
    case FieldKind::any:
      return "any";
  }
  return "?";
}

std::optional<FieldKind> primitive_kind_from_name(std::string_view name) noexcept {
  if (name == "str") return FieldKind::str;
  if (name == "int") return FieldKind::int_;
  if (name == "float") return FieldKind::float_;
  if (name == "bool") return FieldKind::bool_;
  if (name == "bytes") return FieldKind::bytes;
  return std::nullopt;
}

FieldType FieldType::primitive(FieldKind k) {
  switch (k) {
    case FieldKind::str:
    case FieldKind::int_:
    case FieldKind::float_:
    case FieldKind::bool_:
    case FieldKind::bytes:
      return FieldType{k, {}, nullptr};
    default:
      throw InvalidArgument(std::string("FieldType::primitive: not a primitive kind: ") + to_string(k));
  }
}
FieldType FieldType::ndarray(std::string dtype) {
  return FieldType{FieldKind::ndarray, std::move(dtype), nullptr};
}
FieldType FieldType::list(FieldType items) {
  return FieldType{FieldKind::list, {}, std::make_shared<const FieldType>(std::move(items))};
}
FieldType FieldType::list_of_any() {
  return FieldType{FieldKind::list, {}, nullptr};
}
FieldType FieldType::any() {
  return FieldType{FieldKind::any, {}, nullptr};
}

std::string FieldType::describe() const {
  switch (kind) {
    case FieldKind::ndarray:
      return dtype.empty() ? "ndarray" : "ndarray[" + dtype + "]";
    case FieldKind::list:
      return "list[" + (items ? items->describe() : std::string("any")) + "]";
    default:
      return to_string(kind);
  }
}

bool operator==(const FieldType& a, const FieldType& b) noexcept {
  if (a.kind != b.kind || a.dtype != b.dtype) return false;
  if (!a.items || !b.items) return !a.items && !b.items;
  return *a.items == *b.items;
}

SampleSchema::SampleSchema(std::string name, std::vector<FieldDef> fields, std::string version)
    : name_(std::move(name)), version_(std::move(version)), fields_(std::move(fields)) {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name.empty()) {
      throw InvalidArgument("SampleSchema '" + name_ + "': field " + std::to_string(i) +
                            " has an empty name");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (fields_[j].name == fields_[i].name) {
        throw InvalidArgument("SampleSchema '" + name_ + "': duplicate field '" + fields_[i].name + "'");
      }
    }
  }
}

std::optional<std::size_t> SampleSchema::index_of(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return i;
  }
  return std::nullopt;
}

const FieldDef* SampleSchema::find(std::string_view name) const noexcept {
  const auto i = index_of(name);
  return i ? &fields_[*i] : nullptr;
}

std::optional<std::size_t> SampleSchema::first_required_after_optional() const noexcept {
  bool seen_optional = false;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].optional) {
      seen_optional = true;
    } else if (seen_optional) {
      return i;
    }
  }
  return std::nullopt;
}

namespace {

bool kinds_agree(const FieldType& a, const FieldType& b) noexcept {
  if (a.kind == FieldKind::any || b.kind == FieldKind::any) return true;
  if (a.kind != b.kind) return false;
  if (a.kind != FieldKind::list || !a.items || !b.items) return true;
  return kinds_agree(*a.items, *b.items);
}

}  // namespace

std::optional<std::string> schema_mismatch(const SampleSchema& reader, const SampleSchema& writer) {
  const std::string& rn = reader.name();
  const std::string& wn = writer.name();
  for (const FieldDef& f : reader.fields()) {
    const FieldDef* w = writer.find(f.name);
    if (!w) return "field '" + f.name + "' is in " + rn + " but not in " + wn;
    if (!kinds_agree(f.type, w->type)) {
      return "field '" + f.name + "': " + f.type.describe() + " in " + rn + ", " + w->type.describe() +
             " in " + wn;
    }
    if (w->optional && !f.optional) {
      return "field '" + f.name + "' is optional in " + wn + " but required in " + rn;
    }
  }
  for (const FieldDef& w : writer.fields()) {
    if (!reader.find(w.name)) return "field '" + w.name + "' is in " + wn + " but not in " + rn;
  }
  return std::nullopt;
}

}  // namespace atdata
