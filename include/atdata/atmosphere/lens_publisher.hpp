#pragma once
// Publishing lenses (`ac.foundation.dataset.lens`) and finding them (Python's
// LensPublisher and LensLoader). A published lens carries references to
// code, never code.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/lens_record.hpp"
#include "atdata/atmosphere/listed.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/detail/chained_options.hpp"

namespace atdata::atmosphere {

// Path of the library's trivial putter, used when a lens has none (Python
// atdata's value, kept so records from both languages agree).
inline constexpr std::string_view kTrivialPutterPath = "atdata.lens:_trivial_put";

// A view S → V with an optional putter (V, S) → S, plus where its code lives
// ("module:function", or for C++ "path/file.hpp:function").
template <class S, class V>
struct Lens {
  std::string name;
  std::function<V(const S&)> get;
  std::function<S(const V&, const S&)> put;  // empty: the trivial putter (source unchanged)
  std::string getter_path;
  std::string putter_path;  // empty: kTrivialPutterPath

  V operator()(const S& s) const { return get(s); }
  S apply_put(const V& v, const S& s) const { return put ? put(v, s) : s; }
};

// What publish_from_lens needs of a lens.
struct LensCode {
  std::string name;
  std::string getter_path;
  std::string putter_path;  // empty: kTrivialPutterPath

  template <class S, class V>
  static LensCode of(const Lens<S, V>& l) {
    return {l.name, l.getter_path, l.putter_path};
  }
};

// LensPublisher::publish: one code reference per function. Not an aggregate
// (GCC 12, see docs/gcc12.md): fill member by member or chain the setters.
class LensPublishOptions : public atdata::detail::ChainedOptions<LensPublishOptions> {
 public:
  LensPublishOptions() = default;
  LensPublishOptions(std::string name_, AtUri source, AtUri target)
      : name(std::move(name_)), source_schema(source.str()), target_schema(target.str()) {}

  std::string name;           // required
  std::string source_schema;  // AT-URI
  std::string target_schema;  // AT-URI
  std::string description;
  std::optional<CodeReference> getter_code;
  std::optional<CodeReference> putter_code;
  std::string rkey;
  bool validate = true;  // check against the shipped lexicon before writing

  LensPublishOptions&& with_name(std::string v) && { return set(name, std::move(v)); }
  LensPublishOptions&& with_source_schema(AtUri v) && { return set(source_schema, v.str()); }
  LensPublishOptions&& with_target_schema(AtUri v) && { return set(target_schema, v.str()); }
  LensPublishOptions&& with_description(std::string v) && { return set(description, std::move(v)); }
  LensPublishOptions&& with_getter_code(CodeReference v) && { return set(getter_code, std::move(v)); }
  LensPublishOptions&& with_putter_code(CodeReference v) && { return set(putter_code, std::move(v)); }
  LensPublishOptions&& with_rkey(std::string v) && { return set(rkey, std::move(v)); }
  LensPublishOptions&& with_validate(bool v) && { return set(validate, v); }
};

// LensPublisher::publish_from_lens: the code paths come from the lens.
class LensFromCodeOptions : public atdata::detail::ChainedOptions<LensFromCodeOptions> {
 public:
  LensFromCodeOptions() = default;
  LensFromCodeOptions(AtUri source, AtUri target)
      : source_schema(source.str()), target_schema(target.str()) {}

  std::string name;  // empty: the lens's name
  std::string source_schema;
  std::string target_schema;
  std::string description;
  // Where the lens's code lives (git URL and commit). The lexicon requires
  // code references, so with `validate` both are needed (InvalidArgument
  // otherwise); without it they are written only when both are given.
  std::string repository;
  std::string commit;
  std::string rkey;
  bool validate = true;  // check against the shipped lexicon before writing

  LensFromCodeOptions&& with_name(std::string v) && { return set(name, std::move(v)); }
  LensFromCodeOptions&& with_source_schema(AtUri v) && { return set(source_schema, v.str()); }
  LensFromCodeOptions&& with_target_schema(AtUri v) && { return set(target_schema, v.str()); }
  LensFromCodeOptions&& with_description(std::string v) && { return set(description, std::move(v)); }
  LensFromCodeOptions&& with_code(std::string repository_, std::string commit_) && {
    repository = std::move(repository_);
    commit = std::move(commit_);
    return std::move(*this);
  }
  LensFromCodeOptions&& with_rkey(std::string v) && { return set(rkey, std::move(v)); }
  LensFromCodeOptions&& with_validate(bool v) && { return set(validate, v); }
};

class LensPublisher {
 public:
  explicit LensPublisher(atproto::AtmosphereClient& client) : client_(&client) {}

  boost::asio::awaitable<AtUri> publish(LensPublishOptions options);
  boost::asio::awaitable<AtUri> publish_from_lens(LensCode lens, LensFromCodeOptions options);
  template <class S, class V>
  boost::asio::awaitable<AtUri> publish_from_lens(const Lens<S, V>& lens, LensFromCodeOptions options) {
    return publish_from_lens(LensCode::of(lens), std::move(options));
  }

  // (Coroutine parameters are taken by value throughout: an awaitable may be
  // started after the caller's temporaries are gone.)

  // The record publish_from_lens writes (pure; exposed for tests and dry runs).
  static LensRecord record_from_lens(const LensCode& lens, const LensFromCodeOptions& options);

 private:
  atproto::AtmosphereClient* client_;
};

class LensLoader {
 public:
  explicit LensLoader(atproto::AtmosphereClient& client) : client_(&client) {}

  boost::asio::awaitable<LensRecord> get(AtUri uri);
  boost::asio::awaitable<std::vector<Listed<LensRecord>>> list_all(std::string repo = {},
                                                                   std::size_t max = 0);
  // Lenses whose sourceSchema equals `source_schema` and, when given, whose
  // targetSchema equals `target_schema`, in listing order (all pages of 100;
  // Python atdata asked for one page of 1000, which the SDK rejects).
  boost::asio::awaitable<std::vector<Listed<LensRecord>>> find_by_schemas(
      AtUri source_schema, std::optional<AtUri> target_schema = std::nullopt, std::string repo = {});

 private:
  atproto::AtmosphereClient* client_;
};

}  // namespace atdata::atmosphere
