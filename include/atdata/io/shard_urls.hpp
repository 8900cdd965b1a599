#pragma once
// Shard URL strings → shard URLs, exactly as webdataset's expand_urls with
// braceexpand 0.1.7 (docs/format.md, "Shard URLs"), plus the URL-scheme
// rules of webdataset's gopen.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace atdata {

// braceexpand(pattern, escape=True): Cartesian product of literal text and
// {…} groups (integer / letter ranges, comma sequences, nested groups,
// backslash escapes). Unbalanced braces → InvalidArgument. `max_results`
// bounds the expansion (checked before anything is allocated) so that a
// hostile pattern — a dataset record is anyone's text — cannot exhaust
// memory: "{0..999999999}" is an InvalidArgument, not 60 GB of strings.
inline constexpr std::size_t kMaxExpandedUrls = 1'000'000;
std::vector<std::string> brace_expand(std::string_view pattern, std::size_t max_results = kMaxExpandedUrls);

// webdataset expand_urls: split on "::", substitute ${NAME} from the
// environment variable WDS_NAME (missing → InvalidArgument; repeated up to 10
// times), brace-expand each part, concatenate; at most `max_urls` in all.
std::vector<std::string> expand_urls(std::string_view urls, std::size_t max_urls = kMaxExpandedUrls);

// The scheme as Python's urllib.parse.urlparse finds it (lower-cased), or ""
// for plain paths (including Windows-less relative paths with ':' after '/').
std::string url_scheme(std::string_view url);

// The local path of a "file:" URL: the path component (host ignored, query
// and fragment removed), percent-decoded.
std::string file_url_to_path(std::string_view url);

// Percent-decoding as Python's urllib.parse.unquote (invalid escapes kept).
std::string percent_decode(std::string_view s);

// printf-style shard name pattern with one integer conversion ("%06d",
// "%d", "%5d"; "%%" is a literal percent). Anything else → InvalidArgument.
// Formatting is done here, never by printf, so the pattern is not a format
// string hazard.
std::string format_shard_pattern(std::string_view pattern, long long index);

}  // namespace atdata
