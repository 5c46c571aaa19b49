// xmr's single-file model format (SaveModel / LoadModel).
//
// Layout, native little-endian, every offset from the start of the file:
//   [0, 64)      header: magic "XMRMODEL", u32 version, u32 byte-order mark 0x01020304,
//                u64 file size, u32 number of sections, u32 table CRC, zero padding,
//                u32 CRC of header bytes [0, 60) at offset 60.
//   [64, T)      section table, 32 bytes per section (u32 type, u32 level, u64 offset,
//                u64 size, u32 CRC, u32 zero), zero-padded to a multiple of 64 bytes; the
//                header's table CRC covers all of [64, T).
//   [T, end)     the sections in the order meta, tree, level 0 .. level depth-1, then zero or
//                more attachments (sorted by name, names unique), each starting
//                where the previous one ends, each a multiple of 64 bytes including its
//                padding; a section's CRC covers all its bytes.
// So every byte of the file is under exactly one checksum and every array starts 64-byte
// aligned, which lets kMmap point the level spans straight into the mapping.
//
// meta:  i32 n_features, f32 bias, i32 beam_size, i32 top_k, i32 depth, u32 reserved,
//        u64 post_processor length, u64 train_options length, then the two strings.
// tree:  u64 n_nodes[depth], then per level i32 parents[n_nodes], each array 8-byte padded.
// level: u64 n_chunks, n_rows, nnz (64-byte header), then 64-byte aligned arrays
//        i64 chunk_row[n_chunks + 1], i64 chunk_entry[n_chunks + 1], i32 row_feature[n_rows],
//        u32 row_entry[n_rows + n_chunks] (per chunk, its rows' entry offsets relative to the
//        chunk's first entry, n_rows(chunk) + 1 of them), col entry_col[nnz], f32 entry_val[nnz];
//        col is u16 when every chunk of the level is at most 65,536 children wide (known from
//        the tree), else u32. See model_impl.h.
// attachment: u64 name length, u64 data length, the name, the data (see
//        XLinearModel::Attachment; e.g. the text vectorizer of a model trained from text).
// Version history: 1 (64-bit absolute row offsets, interleaved {i32 col, f32 value} entries) is
// no longer read; 2 is the layout above without attachments (still read); 3 adds attachments.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"        // for StrFormat
#include "core/memory.h"     // for AvailableMemoryBytes
#include "io/atomic_file.h"  // for AtomicFileWriter
#include "io/zip.h"          // for Crc32
#include "model/model_impl.h"
#include "xmr/error.h"
#include "xmr/model.h"

namespace xmr {
namespace {

using detail::LevelWeights;
using detail::Span;

constexpr char kMagic[8] = {'X', 'M', 'R', 'M', 'O', 'D', 'E', 'L'};
constexpr std::uint32_t kVersion = 3;
constexpr std::uint32_t kOldestVersion = 2;
constexpr std::uint32_t kByteOrderMark = 0x01020304u;
constexpr std::uint64_t kAlign = 64;
constexpr std::uint64_t kHeaderSize = 64;
constexpr std::uint64_t kTableEntrySize = 32;
enum SectionType : std::uint32_t {
  kMetaSection = 1,
  kTreeSection = 2,
  kLevelSection = 3,
  kAttachmentSection = 4,
};

std::uint64_t AlignUp(std::uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
std::uint64_t Align8(std::uint64_t n) { return (n + 7) / 8 * 8; }

template <typename T>
void Put(std::string* s, T v) {
  s->append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
T Get(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

const char* SectionName(std::uint32_t type) {
  switch (type) {
    case kMetaSection:
      return "meta";
    case kTreeSection:
      return "tree";
    case kLevelSection:
      return "level";
    case kAttachmentSection:
      return "attachment";
  }
  return "unknown";
}

// Byte offsets of the arrays inside a level section.
struct LevelLayout {
  std::uint64_t chunk_row = 0, chunk_entry = 0, row_feature = 0, row_entry = 0, entry_col = 0,
                entry_val = 0, size = 0;
};

// Returns false if the counts overflow 64-bit sizes. col_size: bytes per entry column (2 or 4).
bool ComputeLevelLayout(std::uint64_t n_chunks, std::uint64_t n_rows, std::uint64_t nnz,
                        std::uint64_t col_size, LevelLayout* l) {
  constexpr std::uint64_t kMax = std::uint64_t{1} << 56;  // far beyond any file
  if (n_chunks >= kMax || n_rows >= kMax || nnz >= kMax) return false;
  l->chunk_row = kAlign;
  l->chunk_entry = AlignUp(l->chunk_row + (n_chunks + 1) * sizeof(Offset));
  l->row_feature = AlignUp(l->chunk_entry + (n_chunks + 1) * sizeof(Offset));
  l->row_entry = AlignUp(l->row_feature + n_rows * sizeof(Index));
  l->entry_col = AlignUp(l->row_entry + (n_rows + n_chunks) * sizeof(std::uint32_t));
  l->entry_val = AlignUp(l->entry_col + nnz * col_size);
  l->size = AlignUp(l->entry_val + nnz * sizeof(float));
  return true;
}

std::uint64_t ColSize(const LevelWeights& lv) {
  return lv.narrow_cols() ? sizeof(std::uint16_t) : sizeof(std::uint32_t);
}

// ----- saving -----

std::string MetaPayload(const ModelMeta& m, int depth) {
  std::string s;
  Put<std::int32_t>(&s, m.n_features);
  Put<float>(&s, m.bias);
  Put<std::int32_t>(&s, m.beam_size);
  Put<std::int32_t>(&s, m.top_k);
  Put<std::int32_t>(&s, depth);
  Put<std::uint32_t>(&s, 0);
  Put<std::uint64_t>(&s, m.post_processor.size());
  Put<std::uint64_t>(&s, m.train_options.size());
  s += m.post_processor;
  s += m.train_options;
  s.resize(AlignUp(s.size()), '\0');
  return s;
}

std::string TreePayload(const ClusterChain& chain) {
  std::string s;
  for (int t = 0; t < chain.depth(); ++t) Put<std::uint64_t>(&s, chain.parents[t].size());
  for (int t = 0; t < chain.depth(); ++t) {
    s.append(reinterpret_cast<const char*>(chain.parents[t].data()),
             chain.parents[t].size() * sizeof(Index));
    s.resize(Align8(s.size()), '\0');
  }
  s.resize(AlignUp(s.size()), '\0');
  return s;
}

// The pieces of a level section, in file order (pointer, length); gaps are zero padding.
struct Piece {
  const void* data;
  std::uint64_t size;
  std::uint64_t offset;  // within the section
};

std::vector<Piece> LevelPieces(const LevelWeights& lv, const std::string& header,
                               LevelLayout* layout) {
  XMR_CHECK(ComputeLevelLayout(lv.n_chunks, static_cast<std::uint64_t>(lv.n_rows()),
                               static_cast<std::uint64_t>(lv.nnz()), ColSize(lv), layout));
  const void* cols = lv.narrow_cols() ? static_cast<const void*>(lv.entry_col16.data)
                                      : static_cast<const void*>(lv.entry_col32.data);
  return {
      {header.data(), header.size(), 0},
      {lv.chunk_row.data, lv.chunk_row.size * sizeof(Offset), layout->chunk_row},
      {lv.chunk_entry.data, lv.chunk_entry.size * sizeof(Offset), layout->chunk_entry},
      {lv.row_feature.data, lv.row_feature.size * sizeof(Index), layout->row_feature},
      {lv.row_entry.data, lv.row_entry.size * sizeof(std::uint32_t), layout->row_entry},
      {cols, lv.entry_val.size * ColSize(lv), layout->entry_col},
      {lv.entry_val.data, lv.entry_val.size * sizeof(float), layout->entry_val},
  };
}

const char kZeros[kAlign] = {};

// CRC of a section given as pieces with zero gaps up to `size`.
std::uint32_t PiecesCrc(const std::vector<Piece>& pieces, std::uint64_t size) {
  std::uint32_t crc = 0;
  std::uint64_t pos = 0;
  for (const Piece& p : pieces) {
    while (pos < p.offset) {
      const std::uint64_t n = std::min<std::uint64_t>(kAlign, p.offset - pos);
      crc = detail::Crc32(crc, kZeros, n);
      pos += n;
    }
    if (p.size > 0) crc = detail::Crc32(crc, p.data, p.size);
    pos += p.size;
  }
  while (pos < size) {
    const std::uint64_t n = std::min<std::uint64_t>(kAlign, size - pos);
    crc = detail::Crc32(crc, kZeros, n);
    pos += n;
  }
  return crc;
}

void WritePieces(detail::AtomicFileWriter* out, const std::vector<Piece>& pieces,
                 std::uint64_t size) {
  std::uint64_t pos = 0;
  for (const Piece& p : pieces) {
    while (pos < p.offset) {
      const std::uint64_t n = std::min<std::uint64_t>(kAlign, p.offset - pos);
      out->Write(kZeros, n);
      pos += n;
    }
    if (p.size > 0) out->Write(p.data, p.size);
    pos += p.size;
  }
  while (pos < size) {
    const std::uint64_t n = std::min<std::uint64_t>(kAlign, size - pos);
    out->Write(kZeros, n);
    pos += n;
  }
}

// ----- loading -----

// Keeps a loaded file image alive: an aligned heap buffer or a read-only mapping.
struct FileImage : detail::Storage {
  unsigned char* data = nullptr;
  std::uint64_t size = 0;
  bool mapped = false;
  std::uint64_t map_len = 0;
  ~FileImage() override {
    if (mapped) {
      if (data != nullptr) munmap(data, map_len);
    } else {
      std::free(data);
    }
  }
};

[[noreturn]] void Corrupt(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::kCorruption, path + ": " + what);
}

struct Section {
  std::uint32_t type, level;
  std::uint64_t offset, size;
  std::uint32_t crc;
};

class Loader {
 public:
  Loader(const std::string& path, const FileImage& img) : path_(path), img_(img) {}

  std::shared_ptr<XLinearModel::Impl> Load(bool verify_levels) {
    ReadHeader();
    auto impl = std::make_shared<XLinearModel::Impl>();
    VerifyCrc(sections_[0]);
    const int depth = ReadMeta(sections_[0], &impl->meta);
    XMR_EXPECTS(sections_.size() >= static_cast<std::size_t>(depth) + 2, ErrorCode::kCorruption,
                StrFormat("%s: %zu sections for a model of depth %d", path_.c_str(),
                          sections_.size(), depth));
    VerifyCrc(sections_[1]);
    ReadTree(sections_[1], depth, &impl->chain);
    impl->levels.resize(depth);
    for (int t = 0; t < depth; ++t) {
      const Section& s = sections_[2 + t];
      XMR_EXPECTS(s.type == kLevelSection && s.level == static_cast<std::uint32_t>(t),
                  ErrorCode::kCorruption,
                  StrFormat("%s: section %d is %s %u, expected level %d", path_.c_str(), 2 + t,
                            SectionName(s.type), s.level, t));
      if (verify_levels) VerifyCrc(s);
      ReadLevel(s, t, impl->chain, impl->meta.n_features, verify_levels, &impl->levels[t]);
    }
    for (std::size_t i = static_cast<std::size_t>(depth) + 2; i < sections_.size(); ++i) {
      ReadAttachment(sections_[i], i, &impl->attachments);
    }
    impl->unchecked_entries = !verify_levels;
    return impl;
  }

 private:
  const unsigned char* At(std::uint64_t off) const { return img_.data + off; }

  void ReadHeader() {
    const std::uint64_t size = img_.size;
    if (size < kHeaderSize)
      Corrupt(path_,
              StrFormat("truncated: %llu bytes, no header", static_cast<unsigned long long>(size)));
    if (std::memcmp(At(0), kMagic, sizeof(kMagic)) != 0) {
      Corrupt(path_, "not an xmr model file (bad magic)");
    }
    const std::uint32_t header_crc = Get<std::uint32_t>(At(60));
    if (detail::Crc32(0, At(0), 60) != header_crc) Corrupt(path_, "header checksum mismatch");
    const std::uint32_t version = Get<std::uint32_t>(At(8));
    if (version == 1) {
      throw Error(ErrorCode::kNotSupported,
                  path_ + ": model file format version 1 is no longer supported; retrain");
    }
    if (version < kOldestVersion || version > kVersion) {
      Corrupt(path_, StrFormat("unsupported format version %u (this build reads %u to %u)", version,
                               kOldestVersion, kVersion));
    }
    const std::uint32_t bom = Get<std::uint32_t>(At(12));
    if (bom != kByteOrderMark) {
      Corrupt(path_, "written on a machine of the other byte order (not supported)");
    }
    const std::uint64_t file_size = Get<std::uint64_t>(At(16));
    if (file_size != size) {
      Corrupt(path_, StrFormat("truncated or extended: %llu bytes, header says %llu",
                               static_cast<unsigned long long>(size),
                               static_cast<unsigned long long>(file_size)));
    }
    const std::uint32_t n_sections = Get<std::uint32_t>(At(24));
    const std::uint32_t table_crc = Get<std::uint32_t>(At(28));
    if (n_sections < 3 || n_sections > (size - kHeaderSize) / kTableEntrySize) {
      Corrupt(path_, StrFormat("bad section count %u", n_sections));
    }
    const std::uint64_t table_end = kHeaderSize + AlignUp(n_sections * kTableEntrySize);
    if (table_end > size) Corrupt(path_, "truncated section table");
    if (detail::Crc32(0, At(kHeaderSize), table_end - kHeaderSize) != table_crc) {
      Corrupt(path_, "section table checksum mismatch");
    }
    std::uint64_t expect = table_end;
    for (std::uint32_t i = 0; i < n_sections; ++i) {
      const unsigned char* e = At(kHeaderSize + i * kTableEntrySize);
      Section s{Get<std::uint32_t>(e), Get<std::uint32_t>(e + 4), Get<std::uint64_t>(e + 8),
                Get<std::uint64_t>(e + 16), Get<std::uint32_t>(e + 24)};
      if (s.offset != expect || s.size % kAlign != 0 || s.size > size - s.offset) {
        Corrupt(path_,
                StrFormat("section %u (%s) has a bad offset or size", i, SectionName(s.type)));
      }
      expect = s.offset + s.size;
      sections_.push_back(s);
    }
    if (expect != size) Corrupt(path_, "sections do not cover the file");
    if (sections_[0].type != kMetaSection || sections_[1].type != kTreeSection) {
      Corrupt(path_, "sections out of order (expected meta, tree, levels)");
    }
  }

  void VerifyCrc(const Section& s) const {
    if (detail::Crc32(0, At(s.offset), s.size) != s.crc) {
      Corrupt(path_, s.type == kLevelSection
                         ? StrFormat("level %u section checksum mismatch", s.level)
                         : std::string(SectionName(s.type)) + " section checksum mismatch");
    }
  }

  int ReadMeta(const Section& s, ModelMeta* meta) const {
    constexpr std::uint64_t kFixed = 40;
    if (s.size < kFixed) Corrupt(path_, "meta section too small");
    const unsigned char* p = At(s.offset);
    meta->n_features = Get<std::int32_t>(p);
    meta->bias = Get<float>(p + 4);
    meta->beam_size = Get<std::int32_t>(p + 8);
    meta->top_k = Get<std::int32_t>(p + 12);
    const std::int32_t depth = Get<std::int32_t>(p + 16);
    const std::uint64_t pp_len = Get<std::uint64_t>(p + 24);
    const std::uint64_t opt_len = Get<std::uint64_t>(p + 32);
    if (pp_len > s.size - kFixed || opt_len > s.size - kFixed - pp_len) {
      Corrupt(path_, "meta section: string lengths exceed the section");
    }
    if (AlignUp(kFixed + pp_len + opt_len) != s.size) Corrupt(path_, "meta section: bad size");
    meta->post_processor.assign(reinterpret_cast<const char*>(p + kFixed), pp_len);
    meta->train_options.assign(reinterpret_cast<const char*>(p + kFixed + pp_len), opt_len);
    detail::CheckMeta(*meta, ErrorCode::kCorruption, path_ + ": meta section");
    if (depth < 1 || depth > 1000) Corrupt(path_, StrFormat("meta section: depth %d", depth));
    return depth;
  }

  void ReadTree(const Section& s, int depth, ClusterChain* chain) const {
    const std::uint64_t counts_bytes = static_cast<std::uint64_t>(depth) * 8;
    if (s.size < counts_bytes) Corrupt(path_, "tree section too small");
    const unsigned char* p = At(s.offset);
    std::uint64_t need = counts_bytes;
    std::vector<std::uint64_t> n(depth);
    for (int t = 0; t < depth; ++t) {
      n[t] = Get<std::uint64_t>(p + 8 * t);
      if (n[t] == 0 || n[t] >= static_cast<std::uint64_t>(std::numeric_limits<Index>::max()) ||
          n[t] * sizeof(Index) > s.size) {
        Corrupt(path_, StrFormat("tree section: level %d has %llu nodes", t,
                                 static_cast<unsigned long long>(n[t])));
      }
      need += Align8(n[t] * sizeof(Index));
      if (need > s.size) Corrupt(path_, "tree section: node counts exceed the section");
    }
    if (AlignUp(need) != s.size) Corrupt(path_, "tree section: bad size");
    chain->parents.resize(depth);
    std::uint64_t off = counts_bytes;
    for (int t = 0; t < depth; ++t) {
      chain->parents[t].resize(n[t]);
      std::memcpy(chain->parents[t].data(), p + off, n[t] * sizeof(Index));
      off += Align8(n[t] * sizeof(Index));
    }
    detail::CheckChain(*chain, ErrorCode::kCorruption, path_ + ": tree section");
  }

  void ReadLevel(const Section& s, int t, const ClusterChain& chain, Index n_features,
                 bool check_entries, LevelWeights* lv) const {
    const std::string what = StrFormat("%s: level %d section", path_.c_str(), t);
    if (s.size < kAlign) Corrupt(path_, StrFormat("level %d section too small", t));
    const unsigned char* p = At(s.offset);
    const std::uint64_t n_chunks = Get<std::uint64_t>(p);
    const std::uint64_t n_rows = Get<std::uint64_t>(p + 8);
    const std::uint64_t nnz = Get<std::uint64_t>(p + 16);
    // The column width (hence the entry column type) follows from the tree.
    detail::BuildColumnOrder(chain.parents[t], chain.n_parents(t), lv);
    LevelLayout l;
    if (n_chunks != static_cast<std::uint64_t>(chain.n_parents(t)) ||
        !ComputeLevelLayout(n_chunks, n_rows, nnz, ColSize(*lv), &l) || l.size != s.size) {
      Corrupt(path_, StrFormat("level %d section: counts do not match its size or the tree", t));
    }
    lv->chunk_row = {reinterpret_cast<const Offset*>(p + l.chunk_row), n_chunks + 1};
    lv->chunk_entry = {reinterpret_cast<const Offset*>(p + l.chunk_entry), n_chunks + 1};
    lv->row_feature = {reinterpret_cast<const Index*>(p + l.row_feature), n_rows};
    lv->row_entry = {reinterpret_cast<const std::uint32_t*>(p + l.row_entry), n_rows + n_chunks};
    if (lv->narrow_cols()) {
      lv->entry_col16 = {reinterpret_cast<const std::uint16_t*>(p + l.entry_col), nnz};
    } else {
      lv->entry_col32 = {reinterpret_cast<const std::uint32_t*>(p + l.entry_col), nnz};
    }
    lv->entry_val = {reinterpret_cast<const float*>(p + l.entry_val), nnz};
    detail::CheckLevel(*lv, n_features, check_entries, ErrorCode::kCorruption, what);
    detail::BuildRankIndex(n_features, lv);
  }

  void ReadAttachment(const Section& s, std::size_t i,
                      std::vector<std::pair<std::string, std::string>>* out) const {
    if (s.type != kAttachmentSection) {
      Corrupt(path_,
              StrFormat("section %zu is %s, expected an attachment", i, SectionName(s.type)));
    }
    VerifyCrc(s);
    if (s.size < 16) Corrupt(path_, StrFormat("attachment section %zu too small", i));
    const unsigned char* p = At(s.offset);
    const std::uint64_t name_len = Get<std::uint64_t>(p);
    const std::uint64_t data_len = Get<std::uint64_t>(p + 8);
    if (name_len > s.size - 16 || data_len > s.size - 16 - name_len ||
        AlignUp(16 + name_len + data_len) != s.size) {
      Corrupt(path_, StrFormat("attachment section %zu: lengths do not match its size", i));
    }
    std::string name(reinterpret_cast<const char*>(p + 16), name_len);
    if (!detail::ValidAttachmentName(name)) {
      Corrupt(path_, StrFormat("attachment section %zu: bad name", i));
    }
    if (!out->empty() && !(out->back().first < name)) {
      Corrupt(path_, "attachments not sorted by name or repeated: '" + name + "'");
    }
    out->emplace_back(std::move(name),
                      std::string(reinterpret_cast<const char*>(p + 16 + name_len), data_len));
  }

  const std::string& path_;
  const FileImage& img_;
  std::vector<Section> sections_;
};

}  // namespace

void SaveModel(const XLinearModel& model, const std::string& path) {
  XMR_EXPECTS(!model.empty(), ErrorCode::kInvalidArgument, "SaveModel: the model is empty");
  const XLinearModel::Impl& m = model.impl();
  const int depth = model.depth();
  if (m.unchecked_entries) {
    // A memory-mapped model: make sure no damaged weights get a fresh checksum.
    for (int t = 0; t < depth; ++t) {
      detail::CheckLevel(m.levels[t], m.meta.n_features, /*check_entries=*/true,
                         ErrorCode::kCorruption, StrFormat("SaveModel: level %d", t));
    }
  }
  const std::string meta = MetaPayload(m.meta, depth);
  const std::string tree = TreePayload(m.chain);
  struct Entry {
    std::uint32_t type, level;
    std::uint64_t size;
    std::uint32_t crc;
  };
  std::vector<Entry> entries;
  entries.push_back({kMetaSection, 0, meta.size(), detail::Crc32(0, meta.data(), meta.size())});
  entries.push_back({kTreeSection, 0, tree.size(), detail::Crc32(0, tree.data(), tree.size())});
  std::vector<std::string> level_headers(depth);
  std::vector<std::vector<Piece>> level_pieces(depth);
  for (int t = 0; t < depth; ++t) {
    const LevelWeights& lv = m.levels[t];
    std::string& h = level_headers[t];
    Put<std::uint64_t>(&h, lv.n_chunks);
    Put<std::uint64_t>(&h, lv.n_rows());
    Put<std::uint64_t>(&h, lv.nnz());
    h.resize(kAlign, '\0');
    LevelLayout layout;
    level_pieces[t] = LevelPieces(lv, h, &layout);
    entries.push_back({kLevelSection, static_cast<std::uint32_t>(t), layout.size,
                       PiecesCrc(level_pieces[t], layout.size)});
  }
  std::vector<std::string> attachments;
  for (const auto& a : m.attachments) {
    std::string& p = attachments.emplace_back();
    Put<std::uint64_t>(&p, a.first.size());
    Put<std::uint64_t>(&p, a.second.size());
    p += a.first;
    p += a.second;
    p.resize(AlignUp(p.size()), '\0');
    entries.push_back({kAttachmentSection, 0, p.size(), detail::Crc32(0, p.data(), p.size())});
  }
  // Section table, then the header that checksums it.
  const std::uint64_t table_size = AlignUp(entries.size() * kTableEntrySize);
  std::string table;
  std::uint64_t offset = kHeaderSize + table_size;
  for (const Entry& e : entries) {
    Put<std::uint32_t>(&table, e.type);
    Put<std::uint32_t>(&table, e.level);
    Put<std::uint64_t>(&table, offset);
    Put<std::uint64_t>(&table, e.size);
    Put<std::uint32_t>(&table, e.crc);
    Put<std::uint32_t>(&table, 0);
    offset += e.size;
  }
  table.resize(table_size, '\0');
  std::string header(kMagic, sizeof(kMagic));
  Put<std::uint32_t>(&header, kVersion);
  Put<std::uint32_t>(&header, kByteOrderMark);
  Put<std::uint64_t>(&header, offset);  // file size
  Put<std::uint32_t>(&header, static_cast<std::uint32_t>(entries.size()));
  Put<std::uint32_t>(&header, detail::Crc32(0, table.data(), table.size()));
  header.resize(60, '\0');
  Put<std::uint32_t>(&header, detail::Crc32(0, header.data(), 60));

  detail::AtomicFileWriter out(path);
  out.Write(header);
  out.Write(table);
  out.Write(meta);
  out.Write(tree);
  for (int t = 0; t < depth; ++t) WritePieces(&out, level_pieces[t], entries[2 + t].size);
  for (const std::string& p : attachments) out.Write(p);
  XMR_CHECK(static_cast<std::uint64_t>(out.bytes_written()) == offset);
  out.Commit();
}

XLinearModel LoadModel(const std::string& path, LoadMode mode) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  XMR_EXPECTS(fd >= 0, ErrorCode::kIoError,
              path + ": cannot open model file: " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};
  struct stat st;
  XMR_EXPECTS(fstat(fd, &st) == 0, ErrorCode::kIoError,
              path + ": cannot stat model file: " + std::strerror(errno));
  XMR_EXPECTS(S_ISREG(st.st_mode), ErrorCode::kIoError, path + ": not a regular file");
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (size < kHeaderSize) {
    Corrupt(path,
            StrFormat("truncated: %llu bytes, no header", static_cast<unsigned long long>(size)));
  }
  auto img = std::make_shared<FileImage>();
  img->size = size;
  if (mode == LoadMode::kMmap) {
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    XMR_EXPECTS(p != MAP_FAILED, ErrorCode::kIoError,
                path + ": cannot map model file: " + std::strerror(errno));
    img->data = static_cast<unsigned char*>(p);
    img->mapped = true;
    img->map_len = size;
  } else {
    // Small files cannot exhaust memory; skip reading /proc/meminfo for them.
    const std::uint64_t avail = size < (std::uint64_t{1} << 26)
                                    ? std::numeric_limits<std::uint64_t>::max()
                                    : AvailableMemoryBytes();
    XMR_EXPECTS(size <= avail, ErrorCode::kOutOfMemory,
                StrFormat("%s: loading the model needs %llu bytes but only %llu are available "
                          "(try LoadMode::kMmap / --mmap)",
                          path.c_str(), static_cast<unsigned long long>(size),
                          static_cast<unsigned long long>(avail)));
    void* p = std::aligned_alloc(kAlign, AlignUp(size));
    XMR_EXPECTS(p != nullptr, ErrorCode::kOutOfMemory,
                StrFormat("%s: cannot allocate %llu bytes for the model", path.c_str(),
                          static_cast<unsigned long long>(size)));
    img->data = static_cast<unsigned char*>(p);
    std::uint64_t done = 0;
    while (done < size) {
      const ssize_t n = pread(fd, img->data + done, std::min<std::uint64_t>(size - done, 1 << 30),
                              static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      XMR_EXPECTS(n > 0, ErrorCode::kIoError,
                  path + ": read failed: " + (n < 0 ? std::strerror(errno) : "unexpected end"));
      done += static_cast<std::uint64_t>(n);
    }
  }
  Loader loader(path, *img);
  std::shared_ptr<XLinearModel::Impl> impl = loader.Load(mode == LoadMode::kRead);
  impl->storage = std::move(img);
  return ModelBuilder::Make(std::move(impl));
}

}  // namespace xmr
