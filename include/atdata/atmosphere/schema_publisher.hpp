#pragma once
// Publishing sample schemas as `ac.foundation.dataset.sampleSchema` records
// and reading them back (Python's SchemaPublisher and SchemaLoader). All
// operations are coroutines on the AtmosphereClient's executor.

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/listed.hpp"
#include "atdata/atmosphere/schema_mapping.hpp"
#include "atdata/atmosphere/schema_options.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/atproto/atmosphere_client.hpp"

namespace atdata::atmosphere {

class SchemaPublisher {
 public:
  explicit SchemaPublisher(atproto::AtmosphereClient& client) : client_(&client) {}

  // Maps T (TypeError for an unsupported field) and creates the record.
  // Not logged in → AuthError; server errors → XrpcError.
  template <DescribedSample T>
  boost::asio::awaitable<AtUri> publish(SchemaPublishOptions options) {
    SchemaRecord rec = schema_record_of<T>(options);
    return publish_record(std::move(rec), std::move(options.rkey), options.validate);
  }
  template <DescribedSample T>
  boost::asio::awaitable<AtUri> publish() {
    return publish<T>(SchemaPublishOptions{});
  }
  boost::asio::awaitable<AtUri> publish(SampleSchema schema, SchemaPublishOptions options);
  boost::asio::awaitable<AtUri> publish(SampleSchema schema) {
    return publish(std::move(schema), SchemaPublishOptions{});
  }
  // Checks the record against the shipped lexicon first (RecordError) unless !validate.
  boost::asio::awaitable<AtUri> publish_record(SchemaRecord record, std::string rkey = {},
                                               bool validate = true);

 private:
  atproto::AtmosphereClient* client_;
};

class SchemaLoader {
 public:
  explicit SchemaLoader(atproto::AtmosphereClient& client) : client_(&client) {}

  // getRecord; RecordError "Record at <uri> is not a schema record. Expected
  // $type='ac.foundation.dataset.sampleSchema', got '<actual>'" for another
  // type (later-namespace schema records are accepted).
  boost::asio::awaitable<SchemaRecord> get(AtUri uri);
  // getRecord + to_sample_schema (SchemaError for ref fields, no fields, …).
  boost::asio::awaitable<std::shared_ptr<const SampleSchema>> decode(AtUri uri);

  // Every schema record of `repo` (empty = own), all pages, with URIs.
  // Records that do not parse are skipped. `max` = 0: no limit.
  boost::asio::awaitable<std::vector<Listed<SchemaRecord>>> list_all(std::string repo = {},
                                                                     std::size_t max = 0);

 private:
  atproto::AtmosphereClient* client_;
};

}  // namespace atdata::atmosphere
