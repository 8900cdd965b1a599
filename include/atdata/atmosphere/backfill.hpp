#pragma once
// Backfill: the dataset records a repository already holds, read from the
// account's own PDS, so a catalogue that meets a repository for the first
// time does not know only what changes from then on.
//
//  * list_records: com.atproto.repo.describeRepo, then listRecords for each
//    of its collections under ac.foundation.dataset.* / science.alt.dataset.*
//    (all pages). Cheap; trusts the PDS.
//  * get_repo: com.atproto.sync.getRepo (the whole repository as a CAR):
//    every block's CID checked, the commit signature checked with the key of
//    the account's DID document, the tree walked. One request; verifiable.
// Relays name the repositories holding a collection with
// com.atproto.sync.listReposByCollection: list_repos_by_collection.

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/atproto/repo_event.hpp"
#include "atdata/io/asio_build.hpp"

namespace atdata::atmosphere {

enum class BackfillMethod { list_records, get_repo };

// Whether a collection NSID is one the catalogue keeps.
bool is_dataset_collection(std::string_view collection) noexcept;

// Every record of `did` in the dataset collections, as create changes
// (collection, rkey, cid, record). XrpcError / NetworkError / VerifyError as
// the method's calls throw them; getRepo exports above `max_car_bytes` are
// refused before being read.
boost::asio::awaitable<std::vector<atproto::RecordChange>> fetch_repo_records(
    atproto::AtmosphereClient& client, std::string did, BackfillMethod method = BackfillMethod::list_records,
    std::uint64_t max_car_bytes = 1ull << 30);

// DIDs of every repository holding `collection`, from `host` (a relay;
// all pages). XrpcError "MethodNotImplemented" (or an HTTP 404/501 error) when
// the host does not offer the method, which PDSes do not.
boost::asio::awaitable<std::vector<std::string>> list_repos_by_collection(atproto::AtmosphereClient& client,
                                                                          std::string host,
                                                                          std::string collection);

}  // namespace atdata::atmosphere
