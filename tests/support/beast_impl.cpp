// Beast's out-of-line implementation, compiled once for the test support library
// (BOOST_BEAST_SEPARATE_COMPILATION), as proxy/asio_impl.cpp does for Asio.
#include <boost/beast/src.hpp>
