#include "atmosphere/json_reader.hpp"

namespace atdata::atmosphere::detail {

namespace json = boost::json;

std::string_view kind_name(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "unknown";
}

std::string join_path(std::string_view base, std::string_view key) {
  std::string out(base);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view base, std::size_t i) {
  std::string out(base);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

void fail_missing(std::string_view what, const std::string& path) {
  throw RecordError(path, std::string(what) + ": member '" + path + "' is missing");
}

void fail_type(std::string_view what, const std::string& path, std::string_view expected,
               const json::value& got) {
  throw RecordError(path, std::string(what) + ": member '" + path + "' must be " + std::string(expected) +
                              ", got " + std::string(kind_name(got)));
}

ObjectReader::ObjectReader(const json::value& v, std::string_view what, std::string path)
    : obj_(v.if_object()), what_(what), path_(std::move(path)) {
  if (!obj_) {
    if (path_.empty()) {
      throw RecordError("",
                        std::string(what) + ": record must be an object, got " + std::string(kind_name(v)));
    }
    fail_type(what_, path_, "an object", v);
  }
}

const json::value* ObjectReader::find(std::string_view key) const {
  return obj_->if_contains(key);
}

const json::value& ObjectReader::required(std::string_view key) const {
  const json::value* v = find(key);
  if (!v) fail_missing(what_, member_path(key));
  return *v;
}

std::string ObjectReader::required_string(std::string_view key) const {
  const json::value& v = required(key);
  if (!v.is_string()) fail_type(what_, member_path(key), "a string", v);
  return std::string(v.get_string());
}

std::optional<std::string> ObjectReader::optional_string(std::string_view key) const {
  const json::value* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) fail_type(what_, member_path(key), "a string", *v);
  return std::string(v->get_string());
}

bool ObjectReader::optional_bool(std::string_view key, bool fallback) const {
  const json::value* v = find(key);
  if (!v || v->is_null()) return fallback;
  if (!v->is_bool()) fail_type(what_, member_path(key), "a boolean", *v);
  return v->get_bool();
}

const json::array& ObjectReader::required_array(std::string_view key) const {
  const json::value& v = required(key);
  if (!v.is_array()) fail_type(what_, member_path(key), "an array", v);
  return v.get_array();
}

const json::array* ObjectReader::optional_array(std::string_view key) const {
  const json::value* v = find(key);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_array()) fail_type(what_, member_path(key), "an array", *v);
  return &v->get_array();
}

const json::object* ObjectReader::optional_object(std::string_view key) const {
  const json::value* v = find(key);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_object()) fail_type(what_, member_path(key), "an object", *v);
  return &v->get_object();
}

void ObjectReader::fail(std::string_view key, const std::string& msg) const {
  std::string p = member_path(key);
  throw RecordError(p, std::string(what_) + ": member '" + p + "' " + msg);
}

void require_record_type(const ObjectReader& r, RecordKind kind, std::string_view noun) {
  std::string type = r.required_string("$type");
  if (classify_record_type(type) != kind) {
    r.fail("$type", "is '" + type + "', not a " + std::string(noun) + " record type (expected '" +
                        std::string(collection_for(kind)) + "')");
  }
}

Timestamp required_datetime(const ObjectReader& r, std::string_view key) {
  std::string s = r.required_string(key);
  try {
    return parse_datetime(s);
  } catch (const InvalidArgument& e) {
    r.fail(key, std::string("is not a date-time: ") + e.what());
  }
}

std::string string_at(const json::value& v, std::string_view what, const std::string& path) {
  if (!v.is_string()) fail_type(what, path, "a string", v);
  return std::string(v.get_string());
}

void check_no_floats(const json::value& v, const std::string& path) {
  // Iterative walk: user metadata may be deep and must not overflow the stack.
  struct Item {
    const json::value* v;
    std::string path;
  };
  std::vector<Item> stack{{&v, path}};
  while (!stack.empty()) {
    Item it = std::move(stack.back());
    stack.pop_back();
    switch (it.v->kind()) {
      case json::kind::double_:
        throw InvalidArgument("'" + it.path +
                              "' is a floating-point number; ATProto records cannot hold floats "
                              "(store it as a string or a scaled integer)");
      case json::kind::array: {
        const auto& a = it.v->get_array();
        for (std::size_t i = 0; i < a.size(); ++i) stack.push_back({&a[i], index_path(it.path, i)});
        break;
      }
      case json::kind::object:
        for (const auto& kv : it.v->get_object())
          stack.push_back({&kv.value(), join_path(it.path, kv.key())});
        break;
      default:
        break;
    }
  }
}

}  // namespace atdata::atmosphere::detail
