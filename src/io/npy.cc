#include "io/npy.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "io/text_parse.h"  // for Quote
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

constexpr std::size_t kMaxHeaderBytes = std::size_t{1} << 20;
constexpr std::size_t kChunkElems = std::size_t{1} << 16;

[[noreturn]] void Corrupt(const std::string& msg) { throw Error(ErrorCode::kCorruption, msg); }

// Tiny reader for the Python literal numpy writes as the header.
class DictParser {
 public:
  DictParser(std::string_view s, const std::string& where) : s_(s), where_(where) {}

  void Parse(NpyHeader* h) {
    bool have_descr = false, have_order = false, have_shape = false;
    Expect('{');
    while (true) {
      SkipWs();
      if (Peek() == '}') break;
      const std::string key = String();
      Expect(':');
      SkipWs();
      if (key == "descr") {
        if (Peek() == '[') Fail("structured dtypes are not supported");
        h->descr = String();
        have_descr = true;
      } else if (key == "fortran_order") {
        h->fortran_order = Bool();
        have_order = true;
      } else if (key == "shape") {
        h->shape = Tuple();
        have_shape = true;
      } else {
        Fail("unexpected key " + Quote(key));
      }
      SkipWs();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() != '}') Fail("expected ',' or '}'");
    }
    if (!have_descr || !have_order || !have_shape) {
      Fail("header lacks 'descr', 'fortran_order' or 'shape'");
    }
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    Corrupt(where_ + ": bad .npy header (" + what + "): " + Quote(s_));
  }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  void Expect(char c) {
    SkipWs();
    if (Peek() != c) Fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string String() {
    SkipWs();
    const char q = Peek();
    if (q != '\'' && q != '"') Fail("expected a string");
    const std::size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) Fail("unterminated string");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool Bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    Fail("expected True or False");
  }
  std::vector<std::int64_t> Tuple() {
    std::vector<std::int64_t> out;
    Expect('(');
    while (true) {
      SkipWs();
      if (Peek() == ')') break;
      std::int64_t v = 0;
      bool any = false;
      while (Peek() >= '0' && Peek() <= '9') {
        if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) Fail("dimension too large");
        v = v * 10 + (Peek() - '0');
        ++pos_;
        any = true;
      }
      if (!any) Fail("expected a dimension");
      if (Peek() == 'L') ++pos_;  // Python 2 long literal
      out.push_back(v);
      SkipWs();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() != ')') Fail("expected ',' or ')' in shape");
    }
    ++pos_;
    return out;
  }

  std::string_view s_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

void ParseDescr(NpyHeader* h, const std::string& where) {
  std::string_view d = h->descr;
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
    h->big_endian = d[0] == '>';
    d.remove_prefix(1);
  }
  bool ok = d.size() >= 2;
  int n = 0;
  // At most 8 digits: an item size below 10^8 bytes, so neither n nor 4 n ('U') overflows.
  for (std::size_t i = 1; ok && i < d.size(); ++i) {
    ok = d[i] >= '0' && d[i] <= '9' && n < 10000000;
    if (ok) n = n * 10 + (d[i] - '0');
  }
  if (ok) {
    h->kind = d[0];
    switch (h->kind) {
      case 'b':
        ok = n == 1;
        break;
      case 'i':
      case 'u':
        ok = n == 1 || n == 2 || n == 4 || n == 8;
        break;
      case 'f':
        ok = n == 2 || n == 4 || n == 8;
        break;
      case 'S':
        ok = n >= 1;
        break;
      case 'U':
        ok = n >= 1;
        n *= 4;
        break;
      default:
        ok = false;
    }
    h->itemsize = n;
  }
  if (!ok) Corrupt(where + ": unsupported .npy dtype " + Quote(h->descr));
}

template <std::size_t N>
struct UintOfSize;
template <>
struct UintOfSize<2> {
  using type = std::uint16_t;
};
template <>
struct UintOfSize<4> {
  using type = std::uint32_t;
};
template <>
struct UintOfSize<8> {
  using type = std::uint64_t;
};

// Loads a T stored little- or big-endian at p (p need not be aligned).
template <typename T>
T Load(const unsigned char* p, bool big) {
  using U = typename UintOfSize<sizeof(T)>::type;
  U u;
  std::memcpy(&u, p, sizeof(T));
  if (big) {
    U r = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      r = static_cast<U>(r << 8 | (u & 0xff));
      u = static_cast<U>(u >> 8);
    }
    u = r;
  }
  T v;
  std::memcpy(&v, &u, sizeof(T));
  return v;
}

float HalfToFloat(std::uint16_t h) {
  const int sign = h >> 15;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    v = std::ldexp(static_cast<float>(mant + 1024), exp - 25);
  }
  return sign ? -v : v;
}

// Calls fn(bytes, n, first) for consecutive chunks of the array data.
template <typename Fn>
void ForEachChunk(ZipEntryReader* in, const NpyHeader& h, Fn&& fn) {
  std::vector<unsigned char> buf(kChunkElems * h.itemsize);
  for (std::int64_t done = 0; done < h.count;) {
    const std::size_t n = static_cast<std::size_t>(
        std::min<std::int64_t>(h.count - done, static_cast<std::int64_t>(kChunkElems)));
    in->Read(buf.data(), n * h.itemsize);
    fn(buf.data(), n, done);
    done += static_cast<std::int64_t>(n);
  }
}

void CheckVector(const NpyHeader& h, const std::string& where, const char* what) {
  if (h.shape.size() != 1) {
    Corrupt(where + ": " + what + " must be a 1-d array, has " + std::to_string(h.shape.size()) +
            " dimensions");
  }
}

// True if the file bytes can be copied straight into T.
template <typename T>
bool SameLayout(const NpyHeader& h, char kind) {
  return h.kind == kind && h.itemsize == static_cast<int>(sizeof(T)) && !h.big_endian;
}

template <typename T>
void ReadIntegersImpl(ZipEntryReader* in, const NpyHeader& h, const char* what,
                      std::vector<T>* out) {
  CheckVector(h, in->where(), what);
  out->resize(static_cast<std::size_t>(h.count));
  if (SameLayout<T>(h, 'i')) {
    in->Read(out->data(), out->size() * sizeof(T));
    return;
  }
  if (h.kind != 'i' && h.kind != 'u' && h.kind != 'b') {
    Corrupt(in->where() + ": " + what + " must have an integer dtype, not " + Quote(h.descr));
  }
  ForEachChunk(in, h, [&](const unsigned char* p, std::size_t n, std::int64_t first) {
    for (std::size_t i = 0; i < n; ++i, p += h.itemsize) {
      std::int64_t v = 0;
      bool fits = true;
      switch (h.kind * 16 + h.itemsize) {
        case 'b' * 16 + 1:
          v = *p != 0;
          break;
        case 'i' * 16 + 1:
          v = static_cast<std::int8_t>(*p);
          break;
        case 'u' * 16 + 1:
          v = *p;
          break;
        case 'i' * 16 + 2:
          v = Load<std::int16_t>(p, h.big_endian);
          break;
        case 'u' * 16 + 2:
          v = Load<std::uint16_t>(p, h.big_endian);
          break;
        case 'i' * 16 + 4:
          v = Load<std::int32_t>(p, h.big_endian);
          break;
        case 'u' * 16 + 4:
          v = Load<std::uint32_t>(p, h.big_endian);
          break;
        case 'i' * 16 + 8:
          v = Load<std::int64_t>(p, h.big_endian);
          break;
        case 'u' * 16 + 8: {
          const std::uint64_t u = Load<std::uint64_t>(p, h.big_endian);
          fits = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
          v = static_cast<std::int64_t>(u);
          break;
        }
      }
      if (!fits || v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
        Corrupt(in->where() + ": " + what + "[" + std::to_string(first + i) +
                "] out of range for a " + std::to_string(8 * sizeof(T)) + "-bit integer");
      }
      (*out)[first + i] = static_cast<T>(v);
    }
  });
}

}  // namespace

NpyHeader ReadNpyHeader(ZipEntryReader* in) {
  const std::string& where = in->where();
  unsigned char pre[8];
  if (in->remaining() < 10) Corrupt(where + ": not a .npy array (entry too short)");
  in->Read(pre, 8);
  if (std::memcmp(pre, "\x93NUMPY", 6) != 0) Corrupt(where + ": not a .npy array (bad magic)");
  const int major = pre[6];
  std::size_t len = 0;
  if (major == 1) {
    unsigned char l[2];
    in->Read(l, 2);
    len = l[0] | static_cast<std::size_t>(l[1]) << 8;
  } else if (major == 2 || major == 3) {
    unsigned char l[4];
    in->Read(l, 4);
    len = l[0] | static_cast<std::size_t>(l[1]) << 8 | static_cast<std::size_t>(l[2]) << 16 |
          static_cast<std::size_t>(l[3]) << 24;
  } else {
    Corrupt(where + ": unsupported .npy version " + std::to_string(major) + "." +
            std::to_string(pre[7]));
  }
  if (len > kMaxHeaderBytes || len > in->remaining()) {
    Corrupt(where + ": .npy header length " + std::to_string(len) + " out of range");
  }
  std::string text(len, '\0');
  in->Read(text.data(), len);
  NpyHeader h;
  DictParser(text, where).Parse(&h);
  ParseDescr(&h, where);
  h.count = 1;
  for (std::int64_t d : h.shape) {
    if (d != 0 && h.count > std::numeric_limits<std::int64_t>::max() / d / h.itemsize) {
      Corrupt(where + ": .npy shape too large");
    }
    h.count *= d;
  }
  if (h.fortran_order && h.shape.size() > 1) {
    Corrupt(where + ": Fortran-order arrays are not supported");
  }
  const std::uint64_t need = static_cast<std::uint64_t>(h.count) * h.itemsize;
  if (need != in->remaining()) {
    Corrupt(where + ": array data is " + std::to_string(in->remaining()) + " bytes, dtype " +
            Quote(h.descr) + " and " + std::to_string(h.count) + " elements need " +
            std::to_string(need));
  }
  return h;
}

void ReadNpyIntegers(ZipEntryReader* in, const NpyHeader& h, const char* what,
                     std::vector<std::int32_t>* out) {
  ReadIntegersImpl(in, h, what, out);
}

void ReadNpyIntegers(ZipEntryReader* in, const NpyHeader& h, const char* what,
                     std::vector<std::int64_t>* out) {
  ReadIntegersImpl(in, h, what, out);
}

void ReadNpyFloats(ZipEntryReader* in, const NpyHeader& h, const char* what,
                   std::vector<float>* out) {
  CheckVector(h, in->where(), what);
  out->resize(static_cast<std::size_t>(h.count));
  auto check = [&](float v, std::int64_t i) {
    if (!std::isfinite(v)) {
      Corrupt(in->where() + ": " + what + "[" + std::to_string(i) +
              "] is NaN/Inf or out of float32 range");
    }
  };
  if (SameLayout<float>(h, 'f')) {
    in->Read(out->data(), out->size() * sizeof(float));
    for (std::size_t i = 0; i < out->size(); ++i) check((*out)[i], static_cast<std::int64_t>(i));
    return;
  }
  if (h.kind != 'f' && h.kind != 'i' && h.kind != 'u' && h.kind != 'b') {
    Corrupt(in->where() + ": " + what + " must have a numeric dtype, not " + Quote(h.descr));
  }
  ForEachChunk(in, h, [&](const unsigned char* p, std::size_t n, std::int64_t first) {
    for (std::size_t i = 0; i < n; ++i, p += h.itemsize) {
      float v = 0;
      switch (h.kind * 16 + h.itemsize) {
        case 'b' * 16 + 1:
          v = *p != 0 ? 1.0f : 0.0f;
          break;
        case 'i' * 16 + 1:
          v = static_cast<std::int8_t>(*p);
          break;
        case 'u' * 16 + 1:
          v = *p;
          break;
        case 'i' * 16 + 2:
          v = Load<std::int16_t>(p, h.big_endian);
          break;
        case 'u' * 16 + 2:
          v = Load<std::uint16_t>(p, h.big_endian);
          break;
        case 'i' * 16 + 4:
          v = static_cast<float>(Load<std::int32_t>(p, h.big_endian));
          break;
        case 'u' * 16 + 4:
          v = static_cast<float>(Load<std::uint32_t>(p, h.big_endian));
          break;
        case 'i' * 16 + 8:
          v = static_cast<float>(Load<std::int64_t>(p, h.big_endian));
          break;
        case 'u' * 16 + 8:
          v = static_cast<float>(Load<std::uint64_t>(p, h.big_endian));
          break;
        case 'f' * 16 + 2:
          v = HalfToFloat(Load<std::uint16_t>(p, h.big_endian));
          break;
        case 'f' * 16 + 4:
          v = Load<float>(p, h.big_endian);
          break;
        case 'f' * 16 + 8: {
          const double d = Load<double>(p, h.big_endian);
          v = std::fabs(d) <= std::numeric_limits<float>::max()
                  ? static_cast<float>(d)
                  : std::numeric_limits<float>::infinity();
          break;
        }
      }
      check(v, first + static_cast<std::int64_t>(i));
      (*out)[first + i] = v;
    }
  });
}

std::string ReadNpyString(ZipEntryReader* in, const NpyHeader& h, const char* what) {
  if ((h.kind != 'S' && h.kind != 'U') || h.count != 1) {
    Corrupt(in->where() + ": " + what + " must be a single string, got dtype " + Quote(h.descr) +
            " with " + std::to_string(h.count) + " elements");
  }
  std::vector<unsigned char> raw(h.itemsize);
  in->Read(raw.data(), raw.size());
  std::string out;
  if (h.kind == 'S') {
    out.assign(raw.begin(), raw.end());
  } else {
    for (int i = 0; i < h.itemsize; i += 4) {
      const std::uint32_t c = Load<std::uint32_t>(raw.data() + i, h.big_endian);
      if (c > 0x7f) Corrupt(in->where() + ": " + what + " holds non-ASCII characters");
      out.push_back(static_cast<char>(c));
    }
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

std::string MakeNpyHeader(std::string_view descr, const std::vector<std::int64_t>& shape) {
  std::string dict = "{'descr': '";
  dict += descr;
  dict += "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1) dict += ",";
  dict += "), }";
  // magic(6) + version(2) + length(2) + dict + padding + '\n' is a multiple of 64.
  const std::size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  out += dict;
  return out;
}

}  // namespace detail
}  // namespace xmr
