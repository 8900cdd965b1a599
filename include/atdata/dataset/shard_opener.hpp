#pragma once
// Maps a shard URL to a ByteSource (docs/format.md, "Shard URLs"). Plain paths, "file:"
// URLs, "-" (stdin) and http(s):// (streaming GET from the net layer; non-2xx
// → HttpError) are built in; other schemes (ATProto blobs, …) or a customised
// http client are added with register_shard_scheme, so the dataset code stays
// independent of how bytes arrive.

#include <functional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "atdata/io/asio_build.hpp"
#include "atdata/io/byte_source.hpp"

namespace atdata {

// Opens one shard on the given executor (network sources bind their sockets
// to it). Errors: ShardError / NetworkError / HttpError naming the URL.
using ShardOpener = std::function<ByteSourcePtr(const std::string& url, const asio::any_io_executor& ex)>;

// Registers (or replaces) the opener for a lower-case URL scheme, process-wide.
void register_shard_scheme(const std::string& scheme, ShardOpener opener);

// The default opener: local paths and file: URLs, then registered schemes,
// then the built-in http(s) opener; anything else → ShardError "<url>: no handler for URL scheme 's3'".
ByteSourcePtr open_shard(const std::string& url, const asio::any_io_executor& ex);

}  // namespace atdata
