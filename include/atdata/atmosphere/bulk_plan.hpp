#pragma once
// Deterministic record keys for bulk publishing (pure, no I/O).
//
// A bulk job writes N records with keys `<job>-<index>`: `job` is 13 characters
// of base32 (sortable alphabet) over SHA-256 of the collection and the records'
// content without `createdAt`, `index` is the zero-padded position. Re-running
// the same job after a crash therefore produces the same keys, and the
// publisher skips the keys that already exist instead of writing duplicates.
// A caller that wants to extend or reorder a job passes its own job key.
//
// The keys are valid ATProto record keys ([a-z2-7-]) but not TIDs; the PDS
// accepts them with validate=false, and Python atdata's readers never look at rkeys.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace atdata::atmosphere {

// 13 chars of [2-7a-z]. `records` are hashed in order, each without createdAt.
std::string bulk_job_key(std::string_view collection, std::span<const boost::json::object> records);

// "<job_key>-<index, zero-padded to 6 digits (more when needed)>".
std::string bulk_rkey(std::string_view job_key, std::size_t index);

// True when `rkey` was made by bulk_rkey(job_key, …).
bool is_bulk_rkey_of(std::string_view rkey, std::string_view job_key) noexcept;

// Throws InvalidArgument unless `job_key` is 1–64 chars of [a-z0-9] (so the
// keys stay valid rkeys and the '-' separator is unambiguous).
void check_job_key(std::string_view job_key);

}  // namespace atdata::atmosphere
