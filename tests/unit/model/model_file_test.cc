#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "io/zip.h"  // for Crc32
#include "xmr/error.h"
#include "xmr/model.h"

namespace xmr {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/xmr_model_file_test_" +
         std::to_string(getpid()) + "_" + name;
}

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

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

XLinearModel SmallModel(unsigned seed, Index d = 12, std::vector<Index> sizes = {3, 8}) {
  std::mt19937 rng(seed);
  ClusterChain chain;
  for (std::size_t t = 0; t < sizes.size(); ++t) {
    const Index np = t == 0 ? 1 : sizes[t - 1];
    std::vector<Index> par(sizes[t]);
    for (Index j = 0; j < sizes[t]; ++j) par[j] = j < np ? j : static_cast<Index>(rng() % np);
    std::shuffle(par.begin(), par.end(), rng);
    chain.parents.push_back(par);
  }
  std::uniform_real_distribution<float> val(-1.f, 1.f);
  std::vector<CscMatrix> w(sizes.size());
  for (std::size_t t = 0; t < sizes.size(); ++t) {
    w[t].rows = d + 1;
    w[t].cols = sizes[t];
    for (Index j = 0; j < sizes[t]; ++j) {
      for (Index i = 0; i <= d; ++i) {
        if (rng() % 3 == 0) {
          w[t].indices.push_back(i);
          w[t].data.push_back(val(rng));
        }
      }
      w[t].indptr.push_back(static_cast<Offset>(w[t].indices.size()));
    }
  }
  ModelMeta meta;
  meta.n_features = d;
  meta.bias = 0.75f;
  meta.post_processor = "log-l2-hinge";
  meta.beam_size = 4;
  meta.top_k = 6;
  meta.train_options = "solver=l2-svc-dual\ncost=1";
  return XLinearModel::FromWeights(chain, w, meta);
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
  const XLinearModel m = SmallModel(1, 40, {4, 13, 60});
  const std::string path = TempPath("roundtrip.xmr");
  SaveModel(m, path);
  ExpectSameModel(m, LoadModel(path, LoadMode::kRead));
  ExpectSameModel(m, LoadModel(path, LoadMode::kMmap));
  // Saving a loaded (and a mapped) model reproduces the file byte for byte.
  const std::string bytes = ReadAll(path);
  EXPECT_EQ(bytes.size() % 64, 0u);
  const std::string path2 = TempPath("roundtrip2.xmr");
  SaveModel(LoadModel(path, LoadMode::kMmap), path2);
  EXPECT_EQ(ReadAll(path2), bytes);
  std::remove(path.c_str());
  std::remove(path2.c_str());
}

TEST(ModelFile, MappedModelOutlivesItsHandle) {
  const std::string path = TempPath("mapped.xmr");
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
  EXPECT_THROW(SaveModel(XLinearModel(), TempPath("empty.xmr")), Error);
  try {
    LoadModel(TempPath("does-not-exist.xmr"));
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
  const std::string path = TempPath("keep.xmr");
  SaveModel(SmallModel(4), path);
  const std::string before = ReadAll(path);
  const std::string not_a_model = TempPath("notamodel.xmr");
  WriteAll(not_a_model, "this is not a model file at all, but it is long enough for a header....");
  try {
    LoadModel(not_a_model);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(e.message().find("magic"), std::string::npos);
  }
  EXPECT_EQ(ReadAll(path), before);
  std::remove(path.c_str());
  std::remove(not_a_model.c_str());
}

TEST(ModelFile, RefusesModelLargerThanMemory) {
  // A sparse file far larger than any memory: kRead must refuse it before reading.
  const std::string path = TempPath("huge.xmr");
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
    std::remove(path.c_str());
    GTEST_SKIP() << "filesystem cannot hold a 64 TiB sparse file";
  }
  try {
    LoadModel(path, LoadMode::kRead);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory) << e.what();
    EXPECT_NE(e.message().find(std::to_string(size)), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

// Every truncation and every single-byte change of a small model file is detected.
TEST(ModelFile, DetectsEveryTruncationAndFlippedByte) {
  const std::string path = TempPath("corrupt_src.xmr");
  SaveModel(SmallModel(5), path);
  const std::string good = ReadAll(path);
  ASSERT_GT(good.size(), 256u);
  ASSERT_LT(good.size(), 8192u);
  ScratchFile bad(TempPath("corrupt.xmr"));
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
  std::remove(path.c_str());
}

// Damage with valid checksums (as a buggy writer could produce) must be caught by the
// structural checks: every byte of every section is changed and all CRCs are recomputed; the
// load either fails with kCorruption or yields a model whose weights are still well formed.
TEST(ModelFile, StructuralChecksBehindTheChecksums) {
  const std::string path = TempPath("struct_src.xmr");
  SaveModel(SmallModel(7), path);
  const std::string good = ReadAll(path);
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
  ScratchFile bad(TempPath("struct_bad.xmr"));
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
  std::remove(path.c_str());
}

// kMmap does not checksum the level sections; a damaged weight array must still never crash.
TEST(ModelFile, MappedDamagedWeightsNeverCrash) {
  const std::string path = TempPath("mmap_src.xmr");
  SaveModel(SmallModel(6), path);
  const std::string good = ReadAll(path);
  ScratchFile bad(TempPath("mmap_bad.xmr"));
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
          SaveModel(m, TempPath("mmap_resave.xmr"));
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::kCorruption);
        }
      }
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
    }
  }
  EXPECT_GT(loaded, 0);  // some weight bytes are, by design, not verified
  std::remove(path.c_str());
  std::remove(TempPath("mmap_resave.xmr").c_str());
}

}  // namespace
}  // namespace xmr
