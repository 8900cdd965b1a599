#pragma once
// Shared plumbing of the publishers and loaders: fetch one record and check
// its kind with Python atdata's error text; list every record of a collection.

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atproto/atmosphere_client.hpp"

namespace atdata::atmosphere::detail {

// getRecord on the PDS of uri.authority; RecordError (member "$type") when the
// value is not a record of `kind`:
// "Record at <uri> is not a <what> record. Expected $type='<nsid>', got '<actual>'".
boost::asio::awaitable<atproto::Record> get_checked(atproto::AtmosphereClient& client, AtUri uri,
                                                    RecordKind kind);

// listRecords over all pages of `collection` in `repo` (empty = own), up to
// `max` records (0 = all), calling `each` per record.
boost::asio::awaitable<void> list_collection(atproto::AtmosphereClient& client, std::string collection,
                                             std::string repo, std::size_t max,
                                             const std::function<void(atproto::Record&)>& each);

}  // namespace atdata::atmosphere::detail
