#pragma once
// zlib's own compressor, for tests and fuzz targets of the decoders (header-only, so the
// standalone libFuzzer build needs no test library). Window bits 31 for gzip, 15 for the
// zlib format, -15 for raw deflate. Returns nothing (empty optional) if zlib refuses.

#include <zlib.h>

#include <optional>
#include <string>
#include <string_view>

namespace airlock::proxy::testing {

inline std::optional<std::string> zlib_compress(std::string_view data, int window_bits,
                                                int level = Z_DEFAULT_COMPRESSION,
                                                gz_header* header = nullptr) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  const bool headed = header == nullptr || deflateSetHeader(&z, header) == Z_OK;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const bool ended = headed && deflate(&z, Z_FINISH) == Z_STREAM_END;
  out.resize(z.total_out);
  deflateEnd(&z);
  if (!ended) {
    return std::nullopt;
  }
  return out;
}

}  // namespace airlock::proxy::testing
