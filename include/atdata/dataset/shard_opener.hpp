#pragma once
// Maps a shard URL to a ByteSource (wire-format §5.2). Plain paths, "file:"
// URLs and "-" (stdin) are built in; other schemes (http/https from the net
// layer, ATProto blobs, …) are added with register_shard_scheme so that the
// dataset code stays independent of how bytes arrive.

#include <functional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "atdata/io/byte_source.hpp"

namespace atdata {

// Opens one shard on the given executor (network sources bind their sockets
// to it). Errors: ShardError / NetworkError / HttpError naming the URL.
using ShardOpener = std::function<ByteSourcePtr(const std::string& url, const asio::any_io_executor& ex)>;

// Registers (or replaces) the opener for a lower-case URL scheme, process-wide.
void register_shard_scheme(const std::string& scheme, ShardOpener opener);

// The default opener: local paths and file: URLs, then registered schemes;
// anything else → ShardError "<url>: no handler for URL scheme 's3'".
ByteSourcePtr open_shard(const std::string& url, const asio::any_io_executor& ex);

}  // namespace atdata
