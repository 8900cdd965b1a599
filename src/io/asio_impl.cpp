// The one translation unit that compiles Boost.Asio (separate compilation):
// every other file sees only declarations, which keeps builds fast on 2 cores.
#include <boost/asio/impl/src.hpp>
