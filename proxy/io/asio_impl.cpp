// Asio's out-of-line implementation, compiled once (BOOST_ASIO_SEPARATE_COMPILATION)
// instead of in every translation unit: faster builds, one copy of the code.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
