// The one translation unit that compiles Beast and Asio's SSL support.
// GCC 12 reports a false -Wmaybe-uninitialized inside Beast's parser
// (boost::optional returned from content_length) under -fsanitize builds.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#pragma GCC diagnostic pop
