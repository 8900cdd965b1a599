#include "atdata/atmosphere/lens_publisher.hpp"

#include <utility>

#include "atdata/atmosphere/record_io.hpp"
#include "atdata/error.hpp"
#include "atmosphere/publish_checks.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;

namespace {

// LensRecord and LensPublishOptions share these members; publishing moves them across both ways.
template <class To, class From>
void move_lens_fields(To& to, From& from) {
  to.name = std::move(from.name);
  to.source_schema = std::move(from.source_schema);
  to.target_schema = std::move(from.target_schema);
  to.description = std::move(from.description);
  to.getter_code = std::move(from.getter_code);
  to.putter_code = std::move(from.putter_code);
}

}  // namespace

asio::awaitable<AtUri> LensPublisher::publish(LensPublishOptions o) {
  if (o.name.empty()) throw InvalidArgument("lens name is required");
  LensRecord rec;
  move_lens_fields(rec, o);
  boost::json::object value = rec.to_record();
  if (o.validate) detail::check_before_write(nsid::kLens, value, "the lens record");
  atproto::CreateRecordOptions opt;
  opt.rkey = std::move(o.rkey);
  auto ref = co_await client_->create_record(std::string(nsid::kLens), std::move(value), opt);
  co_return AtUri::parse(ref.uri);
}

LensRecord LensPublisher::record_from_lens(const LensCode& lens, const LensFromCodeOptions& o) {
  LensRecord rec;
  rec.name = o.name.empty() ? lens.name : o.name;
  if (rec.name.empty())
    throw InvalidArgument("lens name is required (neither the lens nor the options name it)");
  rec.source_schema = o.source_schema;
  rec.target_schema = o.target_schema;
  rec.description = o.description;
  // The lexicon requires both code references. Writing the lens without them
  // (what the seed did without a repository and commit) is only done when
  // asked for: silently dropping them would publish an invalid record.
  if (o.validate) {
    if (o.repository.empty() || o.commit.empty()) {
      throw InvalidArgument("publish_from_lens: lens '" + rec.name +
                            "' needs a repository and a commit: the lens lexicon requires code references "
                            "(getterCode and putterCode); give both, or set validate = false to publish the "
                            "lens without code references");
    }
    if (lens.getter_path.empty()) {
      throw InvalidArgument("publish_from_lens: lens '" + rec.name +
                            "' has no getter_path: the lens lexicon requires a getterCode reference; set "
                            "the lens's getter_path, or set validate = false to publish it without one");
    }
  }
  if (!o.repository.empty() && !o.commit.empty()) {
    if (!lens.getter_path.empty()) rec.getter_code = CodeReference{o.repository, o.commit, lens.getter_path};
    rec.putter_code =
        CodeReference{o.repository, o.commit,
                      lens.putter_path.empty() ? std::string(kTrivialPutterPath) : lens.putter_path};
  }
  return rec;
}

asio::awaitable<AtUri> LensPublisher::publish_from_lens(LensCode lens, LensFromCodeOptions o) {
  LensRecord rec = record_from_lens(lens, o);
  LensPublishOptions p;
  move_lens_fields(p, rec);
  p.rkey = std::move(o.rkey);
  p.validate = o.validate;
  co_return co_await publish(std::move(p));
}

asio::awaitable<LensRecord> LensLoader::get(AtUri uri) {
  auto rec = co_await detail::get_checked(*client_, uri, RecordKind::lens);
  co_return LensRecord::from_record(rec.value);
}

asio::awaitable<std::vector<Listed<LensRecord>>> LensLoader::list_all(std::string repo, std::size_t max) {
  std::vector<Listed<LensRecord>> out;
  co_await detail::list_collection(
      *client_, std::string(nsid::kLens), std::move(repo), max, [&](atproto::Record& r) {
        try {
          out.push_back({AtUri::parse(r.uri), r.cid, LensRecord::from_record(r.value)});
        } catch (const Error&) {
        }
      });
  co_return out;
}

asio::awaitable<std::vector<Listed<LensRecord>>> LensLoader::find_by_schemas(
    AtUri source_schema, std::optional<AtUri> target_schema, std::string repo) {
  const std::string source = source_schema.str();
  const std::string target = target_schema ? target_schema->str() : std::string();
  auto all = co_await list_all(std::move(repo));
  std::vector<Listed<LensRecord>> out;
  for (auto& l : all) {
    if (l.record().source_schema != source) continue;
    if (!target.empty() && l.record().target_schema != target) continue;
    out.push_back(std::move(l));
  }
  co_return out;
}

}  // namespace atdata::atmosphere
