#pragma once
// Typed access to the members of a record object, with errors that name the
// member by its full path ("fields[2].fieldType.primitive").

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "atdata/atmosphere/datetime.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere::detail {

std::string_view kind_name(const boost::json::value& v) noexcept;

// `a.b` / `a[3]` path building.
std::string join_path(std::string_view base, std::string_view key);
std::string index_path(std::string_view base, std::size_t i);

[[noreturn]] void fail_missing(std::string_view what, const std::string& path);
[[noreturn]] void fail_type(std::string_view what, const std::string& path, std::string_view expected,
                            const boost::json::value& got);

class ObjectReader {
 public:
  // `what` names the record kind in messages ("ac.foundation.dataset.record").
  ObjectReader(const boost::json::value& v, std::string_view what, std::string path);

  const boost::json::object& object() const noexcept { return *obj_; }
  const std::string& path() const noexcept { return path_; }
  std::string member_path(std::string_view key) const { return join_path(path_, key); }
  const boost::json::value* find(std::string_view key) const;

  std::string required_string(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  bool optional_bool(std::string_view key, bool fallback) const;
  const boost::json::array& required_array(std::string_view key) const;
  const boost::json::array* optional_array(std::string_view key) const;
  const boost::json::object* optional_object(std::string_view key) const;
  const boost::json::value& required(std::string_view key) const;

  [[noreturn]] void fail(std::string_view key, const std::string& msg) const;
  std::string_view what() const noexcept { return what_; }

 private:
  const boost::json::object* obj_;
  std::string_view what_;
  std::string path_;
};

// Fails on `$type` unless it names a record of `kind`; `noun` words the error ("dataset").
void require_record_type(const ObjectReader& r, RecordKind kind, std::string_view noun);

// The date-time at `key`, or a RecordError naming it.
Timestamp required_datetime(const ObjectReader& r, std::string_view key);

// The string at `v`, or a RecordError naming `path`.
std::string string_at(const boost::json::value& v, std::string_view what, const std::string& path);

// Throws InvalidArgument when `v` contains a double anywhere (the ATProto data
// model has no floats; a PDS rejects such records).
void check_no_floats(const boost::json::value& v, const std::string& path);

}  // namespace atdata::atmosphere::detail
