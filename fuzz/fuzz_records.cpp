// Everything the atmosphere layer reads from JSON a server (or anyone who
// writes a record) controls: records, AT-URIs, DID documents, CIDs, and shard
// URL patterns. Parse or atdata::Error; to_record() output parses again.
#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/lens_record.hpp"
#include "atdata/atmosphere/schema_mapping.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/did_doc.hpp"
#include "atdata/error.hpp"
#include "atdata/io/shard_urls.hpp"

using namespace atdata;

template <class F>
void guarded(F&& f) {
  try {
    f();
  } catch (const Error&) {
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  guarded([&] { (void)atmosphere::AtUri::parse(text); });
  guarded([&] { (void)atproto::parse_cid_v1_sha256(text); });
  guarded([&] { (void)expand_urls(text, 10'000); });
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) return 0;
  guarded([&] {
    auto r = atmosphere::SchemaRecord::from_record(v);
    (void)atmosphere::SchemaRecord::from_record(r.to_record());
    (void)atmosphere::to_sample_schema(r);
  });
  guarded([&] {
    auto r = atmosphere::DatasetRecord::from_record(v);
    (void)atmosphere::DatasetRecord::from_record(r.to_record());
  });
  guarded([&] {
    auto r = atmosphere::LensRecord::from_record(v);
    (void)atmosphere::LensRecord::from_record(r.to_record());
  });
  guarded([&] { (void)atproto::parse_did_document(v); });
  return 0;
}
