#include "atdata/atmosphere/schema_publisher.hpp"

#include "atdata/atmosphere/record_io.hpp"
#include "atdata/error.hpp"
#include "atmosphere/publish_checks.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;

asio::awaitable<AtUri> SchemaPublisher::publish(SampleSchema schema, SchemaPublishOptions options) {
  SchemaRecord rec = schema_record_from(schema, options);
  co_return co_await publish_record(std::move(rec), std::move(options.rkey), options.validate);
}

asio::awaitable<AtUri> SchemaPublisher::publish_record(SchemaRecord record, std::string rkey, bool validate) {
  boost::json::object value = record.to_record();
  if (validate) detail::check_before_write(nsid::kSampleSchema, value, "the schema record");
  atproto::CreateRecordOptions opt;
  opt.rkey = std::move(rkey);
  auto ref = co_await client_->create_record(std::string(nsid::kSampleSchema), std::move(value), opt);
  co_return AtUri::parse(ref.uri);
}

asio::awaitable<SchemaRecord> SchemaLoader::get(AtUri uri) {
  auto rec = co_await detail::get_checked(*client_, uri, RecordKind::schema);
  co_return SchemaRecord::from_record(rec.value);
}

asio::awaitable<std::shared_ptr<const SampleSchema>> SchemaLoader::decode(AtUri uri) {
  SchemaRecord rec = co_await get(uri);
  co_return std::make_shared<const SampleSchema>(to_sample_schema(rec));
}

asio::awaitable<std::vector<Listed<SchemaRecord>>> SchemaLoader::list_all(std::string repo, std::size_t max) {
  std::vector<Listed<SchemaRecord>> out;
  co_await detail::list_collection(
      *client_, std::string(nsid::kSampleSchema), std::move(repo), max, [&](atproto::Record& r) {
        try {
          out.emplace_back(AtUri::parse(r.uri), r.cid, SchemaRecord::from_record(r.value));
        } catch (const Error&) {
          // Not an atdata schema (or broken): a listing shows what it can read.
        }
      });
  co_return out;
}

}  // namespace atdata::atmosphere
