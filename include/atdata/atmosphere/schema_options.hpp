#pragma once
// What a published sample schema record says besides its fields.

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "atdata/core/detail/chained_options.hpp"

namespace atdata::atmosphere {

// Not an aggregate (GCC 12 corrupts aggregate temporaries inside co_await,
// see docs/gcc12.md): fill it member by member, or inline:
//   co_await index.publish_schema<T>(SchemaPublishOptions().with_version("2.0.0"));
class SchemaPublishOptions : public atdata::detail::ChainedOptions<SchemaPublishOptions> {
 public:
  SchemaPublishOptions() = default;

  std::string name;  // empty = the struct's bare type name
  std::string version = "1.0.0";
  std::string description;
  boost::json::object metadata;  // copied verbatim into the record (no floats)
  std::string rkey;              // empty = the PDS assigns a TID
  bool validate = true;          // check against the shipped lexicon before writing

  SchemaPublishOptions&& with_name(std::string v) && { return set(name, std::move(v)); }
  SchemaPublishOptions&& with_version(std::string v) && { return set(version, std::move(v)); }
  SchemaPublishOptions&& with_description(std::string v) && { return set(description, std::move(v)); }
  SchemaPublishOptions&& with_rkey(std::string v) && { return set(rkey, std::move(v)); }
  SchemaPublishOptions&& with_validate(bool v) && { return set(validate, v); }
  // A named json::object, or one entry at a time (braced lists are refused:
  // they do not compile inside co_await on GCC 12).
  template <class O>
  requires std::same_as<std::remove_cvref_t<O>, boost::json::object> SchemaPublishOptions &&
      with_metadata(O&& map) && {
    return set(metadata, std::forward<O>(map));
  }
  template <class V>
  requires std::constructible_from<boost::json::value, V> SchemaPublishOptions &&
      with_metadata(std::string_view key, V&& value) && {
    metadata[key] = boost::json::value(std::forward<V>(value));
    return std::move(*this);
  }
};

}  // namespace atdata::atmosphere
