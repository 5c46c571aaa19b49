#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "io/zip.h"  // for Crc32
#include "xmr/error.h"
#include "xmr/model.h"

namespace xmr {
namespace {

using testing_util::ReadBytes;
using testing_util::TempDir;
using testing_util::WriteBytes;

// A scratch file rewritten in place (no truncation, no reallocation), so that the corruption
// tests can load thousands of variants quickly.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& path) : path_(path) {
    fd_ = open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
  }
  ~ScratchFile() {
    close(fd_);
    std::remove(path_.c_str());
  }
  void Set(const std::string& bytes) {
    ASSERT_EQ(pwrite(fd_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(bytes.size())), 0);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

XLinearModel SmallModel(unsigned seed, Index d = 12, std::vector<Index> sizes = {3, 8}) {
  ModelMeta meta;
  meta.bias = 0.75f;
  meta.post_processor = "log-l2-hinge";
  meta.beam_size = 4;
  meta.top_k = 6;
  meta.train_options = "solver=l2-svc-dual\ncost=1";
  return testing_util::RandomModel(seed, sizes, d, testing_util::KeepOneIn(3), meta);
}

void ExpectSameModel(const XLinearModel& a, const XLinearModel& b) {
  ASSERT_EQ(a.depth(), b.depth());
  EXPECT_EQ(a.n_features(), b.n_features());
  EXPECT_EQ(a.meta().bias, b.meta().bias);
  EXPECT_EQ(a.meta().post_processor, b.meta().post_processor);
  EXPECT_EQ(a.meta().beam_size, b.meta().beam_size);
  EXPECT_EQ(a.meta().top_k, b.meta().top_k);
  EXPECT_EQ(a.meta().train_options, b.meta().train_options);
  EXPECT_EQ(a.chain().parents, b.chain().parents);
  EXPECT_EQ(a.nnz(), b.nnz());
  for (int t = 0; t < a.depth(); ++t) {
    const CscMatrix wa = a.Weights(t), wb = b.Weights(t);
    EXPECT_EQ(wa.indptr, wb.indptr);
    EXPECT_EQ(wa.indices, wb.indices);
    EXPECT_EQ(wa.data, wb.data);
  }
}

TEST(ModelFile, SaveLoadRoundTrip) {
  TempDir tmp;
  const XLinearModel m = SmallModel(1, 40, {4, 13, 60});
  const std::string path = tmp.File("roundtrip.xmr");
  SaveModel(m, path);
  ExpectSameModel(m, LoadModel(path, LoadMode::kRead));
  ExpectSameModel(m, LoadModel(path, LoadMode::kMmap));
  // Saving a loaded (and a mapped) model reproduces the file byte for byte.
  const std::string bytes = ReadBytes(path);
  EXPECT_EQ(bytes.size() % 64, 0u);
  const std::string path2 = tmp.File("roundtrip2.xmr");
  SaveModel(LoadModel(path, LoadMode::kMmap), path2);
  EXPECT_EQ(ReadBytes(path2), bytes);
}

TEST(ModelFile, MappedModelOutlivesItsHandle) {
  TempDir tmp;
  const std::string path = tmp.File("mapped.xmr");
  SaveModel(SmallModel(2), path);
  XLinearModel copy;
  {
    const XLinearModel m = LoadModel(path, LoadMode::kMmap);
    copy = m;
  }
  std::remove(path.c_str());  // the mapping stays valid after unlink
  ExpectSameModel(copy, SmallModel(2));
}

TEST(ModelFile, Errors) {
  TempDir tmp;
  EXPECT_THROW(SaveModel(XLinearModel(), tmp.File("empty.xmr")), Error);
  try {
    LoadModel(tmp.File("does-not-exist.xmr"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIoError);
  }
  try {
    SaveModel(SmallModel(3), "/nonexistent-dir/x/model.xmr");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIoError);
  }
  // A failed save leaves the previous file intact.
  const std::string path = tmp.File("keep.xmr");
  SaveModel(SmallModel(4), path);
  const std::string before = ReadBytes(path);
  const std::string not_a_model = tmp.File("notamodel.xmr");
  WriteBytes(not_a_model,
             "this is not a model file at all, but it is long enough for a header....");
  try {
    LoadModel(not_a_model);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(e.message().find("magic"), std::string::npos);
  }
  EXPECT_EQ(ReadBytes(path), before);
}

TEST(ModelFile, RejectsFormatVersion1) {
  TempDir tmp;
  const std::string path = tmp.File("v1.xmr");
  SaveModel(SmallModel(3), path);
  std::string b = ReadBytes(path);
  const std::uint32_t v1 = 1;
  std::memcpy(&b[8], &v1, 4);
  const std::uint32_t crc = detail::Crc32(0, b.data(), 60);
  std::memcpy(&b[60], &crc, 4);
  WriteBytes(path, b);
  for (const LoadMode mode : {LoadMode::kRead, LoadMode::kMmap}) {
    testing_util::ExpectError([&] { LoadModel(path, mode); }, ErrorCode::kNotSupported,
                              {"model file format version 1 is no longer supported; retrain"});
  }
}

TEST(ModelFile, AttachmentsRoundTrip) {
  TempDir tmp;
  const XLinearModel plain = SmallModel(7, 20, {3, 9});
  EXPECT_TRUE(plain.AttachmentNames().empty());
  EXPECT_EQ(plain.Attachment("xmr.vectorizer"), nullptr);
  const std::string binary("a\0b\n\xff\tz", 7);
  XLinearModel m = plain.WithAttachment("zeta", "last")
                       .WithAttachment("xmr.vectorizer", "v1")
                       .WithAttachment("empty", "")
                       .WithAttachment("bin-ary_0", binary)
                       .WithAttachment("xmr.vectorizer", "v2");  // replaces v1
  // The original is unchanged (models are immutable) and the weights are shared.
  EXPECT_TRUE(plain.AttachmentNames().empty());
  EXPECT_EQ(m.AttachmentNames(),
            (std::vector<std::string>{"bin-ary_0", "empty", "xmr.vectorizer", "zeta"}));
  const std::string path = tmp.File("attach.xmr");
  SaveModel(m, path);
  for (const LoadMode mode : {LoadMode::kRead, LoadMode::kMmap}) {
    const XLinearModel back = LoadModel(path, mode);
    ExpectSameModel(m, back);
    EXPECT_EQ(back.AttachmentNames(), m.AttachmentNames());
    ASSERT_NE(back.Attachment("bin-ary_0"), nullptr);
    EXPECT_EQ(*back.Attachment("bin-ary_0"), binary);
    EXPECT_EQ(*back.Attachment("xmr.vectorizer"), "v2");
    EXPECT_EQ(*back.Attachment("empty"), "");
    EXPECT_EQ(*back.Attachment("zeta"), "last");
    EXPECT_EQ(back.Attachment("missing"), nullptr);
  }
  // A model saved again keeps its attachments byte for byte.
  const std::string path2 = tmp.File("attach2.xmr");
  SaveModel(LoadModel(path, LoadMode::kMmap), path2);
  EXPECT_EQ(ReadBytes(path), ReadBytes(path2));
}

TEST(ModelFile, AttachmentNameChecks) {
  const XLinearModel m = SmallModel(8);
  for (const std::string& bad : {std::string(), std::string("a b"), std::string("x/y"),
                                std::string("é"), std::string(129, 'a')}) {
    testing_util::ExpectError([&] { m.WithAttachment(bad, "data"); }, ErrorCode::kInvalidArgument,
                              {"bad attachment name"});
  }
  EXPECT_NO_THROW(m.WithAttachment(std::string(128, 'a'), "data"));
  testing_util::ExpectError([&] { XLinearModel().WithAttachment("a", "b"); },
                            ErrorCode::kInvalidArgument, {"empty"});
}

// Files of format version 2 (before attachments) have the same layout minus attachments.
TEST(ModelFile, ReadsFormatVersion2) {
  TempDir tmp;
  const std::string path = tmp.File("v2.xmr");
  const XLinearModel m = SmallModel(9);
  SaveModel(m, path);
  std::string b = ReadBytes(path);
  std::uint32_t v = 0;
  std::memcpy(&v, &b[8], 4);
  EXPECT_EQ(v, 3u);
  v = 2;
  std::memcpy(&b[8], &v, 4);
  const std::uint32_t crc = detail::Crc32(0, b.data(), 60);
  std::memcpy(&b[60], &crc, 4);
  WriteBytes(path, b);
  ExpectSameModel(m, LoadModel(path));
  v = 4;
  std::memcpy(&b[8], &v, 4);
  const std::uint32_t crc4 = detail::Crc32(0, b.data(), 60);
  std::memcpy(&b[60], &crc4, 4);
  WriteBytes(path, b);
  testing_util::ExpectError([&] { LoadModel(path); }, ErrorCode::kCorruption,
                            {"unsupported format version 4"});
}

// A level whose chunks are wider than 65,536 children stores 32-bit columns; it must round-trip.
TEST(ModelFile, WideChunksRoundTrip) {
  TempDir tmp;
  const std::string path = tmp.File("wide.xmr");
  const XLinearModel m = SmallModel(5, 4, {1, 70000});
  SaveModel(m, path);
  for (const LoadMode mode : {LoadMode::kRead, LoadMode::kMmap}) {
    const XLinearModel back = LoadModel(path, mode);
    ExpectSameModel(m, back);
  }
}

TEST(ModelFile, RefusesModelLargerThanMemory) {
  TempDir tmp;
  // A sparse file far larger than any memory: kRead must refuse it before reading.
  const std::string path = tmp.File("huge.xmr");
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  off_t size = 0;
  for (int shift : {46, 43, 40}) {
    if (ftruncate(fd, off_t{1} << shift) == 0) {
      size = off_t{1} << shift;
      break;
    }
  }
  close(fd);
  const bool ok = size > 0;
  if (!ok) {
    GTEST_SKIP() << "filesystem cannot hold a 64 TiB sparse file";
  }
  try {
    LoadModel(path, LoadMode::kRead);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory) << e.what();
    EXPECT_NE(e.message().find(std::to_string(size)), std::string::npos) << e.what();
  }
}

// Every truncation and every single-byte change of a small model file is detected.
TEST(ModelFile, DetectsEveryTruncationAndFlippedByte) {
  TempDir tmp;
  const std::string path = tmp.File("corrupt_src.xmr");
  SaveModel(SmallModel(5).WithAttachment("xmr.label_names", "a\nb\nc"), path);
  const std::string good = ReadBytes(path);
  ASSERT_GT(good.size(), 256u);
  ASSERT_LT(good.size(), 8192u);
  ScratchFile bad(tmp.File("corrupt.xmr"));
  auto expect_corruption = [&](const std::string& bytes, LoadMode mode, const std::string& what) {
    bad.Set(bytes);
    try {
      LoadModel(bad.path(), mode);
      ADD_FAILURE() << what << ": loaded without error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << what << ": " << e.what();
    }
  };
  for (std::size_t n = 0; n < good.size(); ++n) {
    expect_corruption(good.substr(0, n), LoadMode::kRead, "truncated at " + std::to_string(n));
    expect_corruption(good.substr(0, n), LoadMode::kMmap, "truncated at " + std::to_string(n));
  }
  expect_corruption(good + std::string(64, '\0'), LoadMode::kRead, "extended");
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const unsigned char x : {0x01, 0xFF}) {
      std::string b = good;
      b[i] = static_cast<char>(b[i] ^ x);
      expect_corruption(b, LoadMode::kRead,
                        "byte " + std::to_string(i) + " ^ " + std::to_string(x));
    }
  }
}

// Damage with valid checksums (as a buggy writer could produce) must be caught by the
// structural checks: every byte of every section is changed and all CRCs are recomputed; the
// load either fails with kCorruption or yields a model whose weights are still well formed.
TEST(ModelFile, StructuralChecksBehindTheChecksums) {
  TempDir tmp;
  const std::string path = tmp.File("struct_src.xmr");
  SaveModel(SmallModel(7), path);
  const std::string good = ReadBytes(path);
  auto get32 = [](const std::string& b, std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, b.data() + off, 4);
    return v;
  };
  auto get64 = [](const std::string& b, std::size_t off) {
    std::uint64_t v;
    std::memcpy(&v, b.data() + off, 8);
    return v;
  };
  auto put32 = [](std::string* b, std::size_t off, std::uint32_t v) {
    std::memcpy(&(*b)[off], &v, 4);
  };
  const std::uint32_t n_sections = get32(good, 24);
  const std::size_t table_end = 64 + (n_sections * 32 + 63) / 64 * 64;
  ScratchFile bad(tmp.File("struct_bad.xmr"));
  int loaded = 0, rejected = 0;
  for (std::uint32_t sec = 0; sec < n_sections; ++sec) {
    const std::size_t entry = 64 + sec * 32;
    const std::size_t off = get64(good, entry + 8), size = get64(good, entry + 16);
    for (std::size_t i = off; i < off + size; ++i) {
      for (const unsigned char x : {0x01, 0x80, 0xFF}) {
        std::string b = good;
        b[i] = static_cast<char>(b[i] ^ x);
        put32(&b, entry + 24, detail::Crc32(0, b.data() + off, size));
        put32(&b, 28, detail::Crc32(0, b.data() + 64, table_end - 64));
        put32(&b, 60, detail::Crc32(0, b.data(), 60));
        bad.Set(b);
        try {
          const XLinearModel m = LoadModel(bad.path(), LoadMode::kRead);
          ++loaded;
          for (int t = 0; t < m.depth(); ++t) {
            const CscMatrix w = m.Weights(t);
            ASSERT_EQ(w.rows, m.n_features() + 1);
            for (Index j = 0; j < w.cols; ++j) {
              for (Offset q = w.indptr[j]; q < w.indptr[j + 1]; ++q) {
                ASSERT_TRUE(w.indices[q] >= 0 && w.indices[q] < w.rows);
                ASSERT_TRUE(q == w.indptr[j] || w.indices[q - 1] < w.indices[q]);
              }
            }
          }
        } catch (const Error& e) {
          ++rejected;
          EXPECT_EQ(e.code(), ErrorCode::kCorruption) << "byte " << i << ": " << e.what();
        }
      }
    }
  }
  EXPECT_GT(loaded, 0);    // e.g. a changed weight value is valid data
  EXPECT_GT(rejected, 0);  // e.g. a changed row id or offset is not
}

// kMmap does not checksum the level sections; a damaged weight array must still never crash.
TEST(ModelFile, MappedDamagedWeightsNeverCrash) {
  TempDir tmp;
  const std::string path = tmp.File("mmap_src.xmr");
  SaveModel(SmallModel(6), path);
  const std::string good = ReadBytes(path);
  ScratchFile bad(tmp.File("mmap_bad.xmr"));
  int loaded = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string b = good;
    b[i] = static_cast<char>(b[i] ^ 0xFF);
    bad.Set(b);
    try {
      const XLinearModel m = LoadModel(bad.path(), LoadMode::kMmap);
      ++loaded;
      for (int t = 0; t < m.depth(); ++t) {
        try {
          m.Weights(t);
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::kCorruption);
        }
      }
      if (loaded % 16 == 1) {  // saving syncs to disk: only a sample
        try {
          SaveModel(m, tmp.File("mmap_resave.xmr"));
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::kCorruption);
        }
      }
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
    }
  }
  EXPECT_GT(loaded, 0);  // some weight bytes are, by design, not verified
}

}  // namespace
}  // namespace xmr
