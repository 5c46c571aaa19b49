// Content-sniffing entry point and small helpers of xmr/io.h.
#include "xmr/io.h"

#include <sys/stat.h>  // for stat

#include <cstring>

#include "io/formats.h"
#include "io/stream.h"
#include "io/zip.h"

namespace xmr {

CsrMatrix ReadMatrix(const std::string& path) {
  char magic[8] = {};
  std::size_t n;
  {
    detail::InputStream in(path);
    n = in.Peek(magic, sizeof(magic));
  }
  // Zip archives start with a local header, or with the end record when empty.
  if (n >= 4 &&
      (std::memcmp(magic, "PK\x03\x04", 4) == 0 || std::memcmp(magic, "PK\x05\x06", 4) == 0)) {
    return detail::ReadNpzCsrFrom(detail::ZipReader(detail::ByteSource::Open(path)));
  }
  if (n == 8 && std::memcmp(magic, "XMRMAT01", 8) == 0) return ReadBinaryCsr(path);
  return detail::ReadTextMatrix(path);
}

bool PathExists(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}

}  // namespace xmr
