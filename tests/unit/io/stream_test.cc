// Tests of the decompressing input stream, the line/block readers and the atomic writer.
#include "io/stream.h"

#include <fcntl.h>  // for open
#include <gtest/gtest.h>
#include <signal.h>        // for signal(SIGXFSZ)
#include <sys/resource.h>  // for setrlimit
#include <sys/wait.h>      // for waitpid
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "io/atomic_file.h"
#include "io_test_util.h"
#include "xmr/io.h"

namespace xmr {
namespace {

using detail::AtomicFileWriter;
using detail::BlockReader;
using detail::BlockReaderOptions;
using detail::Compression;
using detail::InputStream;
using detail::LineReader;
using detail::TextBlock;
using io_test::Gzip;
using io_test::Xz;
using testing_util::ExpectError;
using testing_util::ReadBytes;
using testing_util::TempDir;
using testing_util::WriteBytes;

// Deterministic text with lines of varying length.
std::string SampleText(int lines, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::string s;
  for (int i = 0; i < lines; ++i) {
    s += "line " + std::to_string(i);
    const int n = static_cast<int>(rng() % 200);
    for (int k = 0; k < n; ++k) s += static_cast<char>('a' + rng() % 26);
    s += '\n';
  }
  return s;
}

std::string ReadAllWith(const std::string& path, std::size_t chunk) {
  InputStream in(path);
  std::string out, buf(chunk, '\0');
  while (std::size_t n = in.Read(buf.data(), buf.size())) out.append(buf, 0, n);
  EXPECT_TRUE(in.AtEnd());
  EXPECT_EQ(in.position(), static_cast<std::int64_t>(out.size()));
  return out;
}

std::vector<std::string> AllLines(const std::string& path, std::size_t block = 1 << 20,
                                  int prefetch = -1) {
  BlockReaderOptions o;
  o.block_bytes = block;
  o.prefetch = prefetch;
  LineReader r(path, o);
  std::vector<std::string> out;
  std::string_view line;
  while (r.Next(&line)) {
    out.emplace_back(line);
    EXPECT_EQ(r.line_number(), static_cast<std::int64_t>(out.size()));
  }
  return out;
}

TEST(InputStream, PlainGzipAndXzReadTheSameBytes) {
  TempDir dir;
  const std::string text = SampleText(2000);
  WriteBytes(dir.File("a.txt"), text);
  WriteBytes(dir.File("a.txt.gz"), Gzip(text));
  WriteBytes(dir.File("a.txt.xz"), Xz(text));
  WriteBytes(dir.File("gz_named_txt"), Gzip(text));  // detection by content, not name
  EXPECT_EQ(InputStream(dir.File("a.txt")).compression(), Compression::kNone);
  EXPECT_EQ(InputStream(dir.File("a.txt.gz")).compression(), Compression::kGzip);
  EXPECT_EQ(InputStream(dir.File("a.txt.xz")).compression(), Compression::kXz);
  EXPECT_EQ(InputStream(dir.File("gz_named_txt")).compression(), Compression::kGzip);
  for (const char* name : {"a.txt", "a.txt.gz", "a.txt.xz", "gz_named_txt"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(ReadAllWith(dir.File(name), 1), text);
    EXPECT_EQ(ReadAllWith(dir.File(name), 7), text);
    EXPECT_EQ(ReadAllWith(dir.File(name), 1 << 20), text);
    EXPECT_EQ(detail::ReadWholeFile(dir.File(name)), text);
  }
}

TEST(InputStream, ConcatenatedGzipMembersAndXzStreams) {
  TempDir dir;
  WriteBytes(dir.File("m.gz"), Gzip("hello ") + Gzip("world\n"));
  EXPECT_EQ(detail::ReadWholeFile(dir.File("m.gz")), "hello world\n");
  WriteBytes(dir.File("m.xz"), Xz("hello ") + Xz("world\n"));
  EXPECT_EQ(detail::ReadWholeFile(dir.File("m.xz")), "hello world\n");
  // Zero padding after a gzip member is tolerated, as gzip(1) does.
  WriteBytes(dir.File("pad.gz"), Gzip("abc") + std::string(10, '\0'));
  EXPECT_EQ(detail::ReadWholeFile(dir.File("pad.gz")), "abc");
}

TEST(InputStream, PeekDoesNotConsume) {
  TempDir dir;
  WriteBytes(dir.File("p.xz"), Xz("PK\x03\x04 rest"));
  InputStream in(dir.File("p.xz"));
  char buf[16] = {};
  ASSERT_EQ(in.Peek(buf, 4), 4u);
  EXPECT_EQ(std::string(buf, 4), "PK\x03\x04");
  EXPECT_EQ(in.position(), 0);
  std::string all(16, '\0');
  all.resize(in.Read(all.data(), all.size()));
  EXPECT_EQ(all, "PK\x03\x04 rest");
  EXPECT_EQ(in.Peek(buf, 4), 0u);
  EXPECT_TRUE(in.AtEnd());
}

TEST(InputStream, EmptyAndTinyFiles) {
  TempDir dir;
  WriteBytes(dir.File("empty"), "");
  WriteBytes(dir.File("one"), "x");
  EXPECT_EQ(detail::ReadWholeFile(dir.File("empty")), "");
  EXPECT_EQ(detail::ReadWholeFile(dir.File("one")), "x");
  EXPECT_TRUE(InputStream(dir.File("empty")).AtEnd());
  WriteBytes(dir.File("empty.gz"), Gzip(""));
  EXPECT_EQ(detail::ReadWholeFile(dir.File("empty.gz")), "");
}

TEST(InputStream, MissingFileAndDirectoryAreIoErrors) {
  TempDir dir;
  ExpectError([&] { InputStream in(dir.File("nope.txt")); }, ErrorCode::kIoError,
              {"nope.txt", "No such file"});
  ExpectError([&] { InputStream in(dir.path()); }, ErrorCode::kIoError, {"directory"});
}

TEST(InputStream, TruncatedGzipIsCorruption) {
  TempDir dir;
  const std::string gz = Gzip(SampleText(5000));
  for (std::size_t cut : {gz.size() - 1, gz.size() - 8, gz.size() / 2, std::size_t{12}}) {
    SCOPED_TRACE(cut);
    WriteBytes(dir.File("t.gz"), gz.substr(0, cut));
    ExpectError([&] { detail::ReadWholeFile(dir.File("t.gz")); }, ErrorCode::kCorruption,
                {"t.gz", "gzip"});
  }
}

TEST(InputStream, TruncatedXzIsCorruption) {
  TempDir dir;
  const std::string xz = Xz(SampleText(5000));
  for (std::size_t cut : {xz.size() - 1, xz.size() - 20, xz.size() / 2, std::size_t{20}}) {
    SCOPED_TRACE(cut);
    WriteBytes(dir.File("t.xz"), xz.substr(0, cut));
    ExpectError([&] { detail::ReadWholeFile(dir.File("t.xz")); }, ErrorCode::kCorruption,
                {"t.xz", "xz"});
  }
}

TEST(InputStream, DamagedCompressedDataIsCorruption) {
  TempDir dir;
  std::string gz = Gzip(SampleText(3000));
  gz[gz.size() / 2] ^= 0x55;
  WriteBytes(dir.File("d.gz"), gz);
  ExpectError([&] { detail::ReadWholeFile(dir.File("d.gz")); }, ErrorCode::kCorruption,
              {"d.gz", "gzip"});
  std::string xz = Xz(SampleText(3000));
  xz[xz.size() / 2] ^= 0x55;
  WriteBytes(dir.File("d.xz"), xz);
  ExpectError([&] { detail::ReadWholeFile(dir.File("d.xz")); }, ErrorCode::kCorruption,
              {"d.xz", "xz"});
  WriteBytes(dir.File("g.gz"), Gzip("abc") + "garbage");
  ExpectError([&] { detail::ReadWholeFile(dir.File("g.gz")); }, ErrorCode::kCorruption,
              {"trailing garbage"});
}

TEST(InputStream, OtherCompressorsAreNotSupported) {
  TempDir dir;
  WriteBytes(dir.File("b.bz2"), "BZh91AY&SY");
  ExpectError([&] { InputStream in(dir.File("b.bz2")); }, ErrorCode::kNotSupported, {"bzip2"});
  WriteBytes(dir.File("z.zst"), std::string("\x28\xb5\x2f\xfd\x00\x00", 6));
  ExpectError([&] { InputStream in(dir.File("z.zst")); }, ErrorCode::kNotSupported, {"zstd"});
}

TEST(InputStream, ReadExactReportsTruncation) {
  TempDir dir;
  WriteBytes(dir.File("s"), "12345");
  InputStream in(dir.File("s"));
  char buf[8];
  in.ReadExact(buf, 3, "head");
  ExpectError([&] { in.ReadExact(buf, 8, "body"); }, ErrorCode::kCorruption,
              {"truncated", "body", "offset 3"});
}

TEST(LineReader, SplitsLinesAcrossBlocksAndCompression) {
  TempDir dir;
  const std::string text = SampleText(3000);
  WriteBytes(dir.File("l.txt"), text);
  WriteBytes(dir.File("l.txt.xz"), Xz(text));
  std::vector<std::string> expect;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    expect.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  // Tiny blocks force many block boundaries; prefetch on and off must agree.
  EXPECT_EQ(AllLines(dir.File("l.txt"), 4096, 0), expect);
  EXPECT_EQ(AllLines(dir.File("l.txt"), 4096, 1), expect);
  EXPECT_EQ(AllLines(dir.File("l.txt.xz"), 4096, -1), expect);
  EXPECT_EQ(AllLines(dir.File("l.txt.xz")), expect);
}

TEST(LineReader, CrLfFinalLineAndBlankLines) {
  TempDir dir;
  WriteBytes(dir.File("w.txt"), "a b\r\n\r\n\nc\r\nlast");
  EXPECT_EQ(AllLines(dir.File("w.txt")), (std::vector<std::string>{"a b", "", "", "c", "last"}));
  WriteBytes(dir.File("t.txt"), "x\n\n");
  EXPECT_EQ(AllLines(dir.File("t.txt")), (std::vector<std::string>{"x", ""}));
  WriteBytes(dir.File("e.txt"), "");
  EXPECT_TRUE(AllLines(dir.File("e.txt")).empty());
}

TEST(LineReader, LineLongerThanBlock) {
  TempDir dir;
  const std::string long_line(100000, 'q');
  WriteBytes(dir.File("long.txt"), "s\n" + long_line + "\nt");
  EXPECT_EQ(AllLines(dir.File("long.txt"), 4096, 0),
            (std::vector<std::string>{"s", long_line, "t"}));
  WriteBytes(dir.File("long.gz"), Gzip(long_line));
  EXPECT_EQ(AllLines(dir.File("long.gz"), 4096, 1), (std::vector<std::string>{long_line}));
}

TEST(BlockReader, BlocksHoldWholeLinesAndNumberThem) {
  TempDir dir;
  const std::string text = SampleText(5000);
  WriteBytes(dir.File("b.txt"), text + "tail");
  BlockReaderOptions o;
  o.block_bytes = 10000;
  BlockReader r(dir.File("b.txt"), o);
  TextBlock b;
  std::string joined;
  std::int64_t next_line = 1;
  int blocks = 0;
  while (r.Next(&b)) {
    ++blocks;
    EXPECT_EQ(b.first_line, next_line);
    next_line += b.lines;
    joined += b.text;
    if (joined.size() < text.size()) {
      EXPECT_EQ(b.text.back(), '\n');
    }
  }
  EXPECT_GT(blocks, 10);
  EXPECT_EQ(joined, text + "tail");
  EXPECT_EQ(next_line, 5002);
}

TEST(BlockReader, ErrorsOfThePrefetchThreadReachTheCaller) {
  TempDir dir;
  const std::string xz = Xz(SampleText(4000));
  WriteBytes(dir.File("t.xz"), xz.substr(0, xz.size() * 3 / 4));
  BlockReaderOptions o;
  o.block_bytes = 4096;
  o.prefetch = 1;
  ExpectError(
      [&] {
        BlockReader r(dir.File("t.xz"), o);
        TextBlock b;
        while (r.Next(&b)) {
        }
      },
      ErrorCode::kCorruption, {"truncated xz"});
  // Destroying a reader that still has blocks pending must not hang.
  WriteBytes(dir.File("ok.xz"), Xz(SampleText(4000)));
  BlockReader r(dir.File("ok.xz"), o);
  TextBlock b;
  EXPECT_TRUE(r.Next(&b));
}

// ----- AtomicFileWriter -----------------------------------------------------------------------

TEST(AtomicFileWriter, CommitWritesEverythingInOrder) {
  TempDir dir;
  const std::string path = dir.File("out.txt");
  {
    AtomicFileWriter w(path);
    EXPECT_EQ(w.temp_path(), path + ".tmp." + std::to_string(::getpid()));
    w.Write("head ");
    w.stream() << 42 << ' ' << 1.5;
    w.Write(std::string_view(" mid "));
    w.stream() << "tail";
    std::string big(3 << 20, 'z');  // larger than the buffer
    w.Write(big.data(), big.size());
    char* p = w.Reserve(3);
    p[0] = 'e';
    p[1] = 'n';
    p[2] = 'd';
    w.Advance(3);
    EXPECT_EQ(w.bytes_written(), static_cast<std::int64_t>(20 + (3 << 20) + 3));
    EXPECT_FALSE(PathExists(path));
    w.Commit();
    EXPECT_FALSE(PathExists(w.temp_path()));
  }
  EXPECT_EQ(ReadBytes(path), "head 42 1.5 mid tail" + std::string(3 << 20, 'z') + "end");
}

TEST(AtomicFileWriter, NoCommitLeavesNoFileAndKeepsTheOldOne) {
  TempDir dir;
  const std::string path = dir.File("keep.txt");
  WriteBytes(path, "old");
  {
    AtomicFileWriter w(path);
    w.Write("new content");
  }
  EXPECT_EQ(ReadBytes(path), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
  detail::WriteFileAtomic(path, "replaced");
  EXPECT_EQ(ReadBytes(path), "replaced");
}

TEST(AtomicFileWriter, SymlinksKeepTheLinkAndDevicesAreWrittenInPlace) {
  TempDir dir;
  WriteBytes(dir.File("target.txt"), "old");
  std::filesystem::create_symlink(dir.File("target.txt"), dir.File("link.txt"));
  detail::WriteFileAtomic(dir.File("link.txt"), "new");
  EXPECT_TRUE(std::filesystem::is_symlink(dir.File("link.txt")));
  EXPECT_EQ(ReadBytes(dir.File("target.txt")), "new");
  {
    AtomicFileWriter w("/dev/null");
    EXPECT_EQ(w.temp_path(), "");
    w.Write("discarded");
    w.Commit();
  }
  EXPECT_FALSE(PathExists("/dev/null.tmp." + std::to_string(::getpid())));
  CsrMatrix p;
  p.rows = 1;
  p.cols = 3;
  p.indptr = {0, 1};
  p.indices = {2};
  p.data = {0.5f};
  WritePredictionText("/dev/null", p.view());
  ExpectError([&] { AtomicFileWriter w("/dev/no_such_device_xmr"); }, ErrorCode::kIoError,
              {"/dev/no_such_device_xmr"});
  // /dev/shm is a tmpfs of regular files: a new file there is created atomically like anywhere
  // else (it was once taken for a device and refused).
  if (std::filesystem::is_directory("/dev/shm")) {
    const std::string shm = "/dev/shm/xmr_atomic_" + std::to_string(::getpid());
    detail::WriteFileAtomic(shm, "in shm");
    EXPECT_EQ(ReadBytes(shm), "in shm");
    std::filesystem::remove(shm);
  }
}

// Runs `body` in a child process whose descriptor `fd` is a file truncated and opened for
// writing, as a shell's '>' does; returns what the file holds when the child has exited.
// The child exits 0 unless `body` throws.
template <typename Fn>
std::string RunWithDescriptorToFile(int fd, const std::string& path, Fn&& body) {
  std::fflush(nullptr);  // nothing of the parent's stdio buffers may reach the child's file
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (file < 0 || ::dup2(file, fd) < 0) std::_Exit(3);
    ::close(file);
    int rc = 0;
    try {
      body();
    } catch (...) {
      rc = 2;
    }
    std::fflush(nullptr);
    std::_Exit(rc);
  }
  EXPECT_GT(pid, 0);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return ReadBytes(path);
}

// "/dev/stdout" must be written through the process's descriptor 1, at its offset: re-opening
// the path starts a new offset, so when stdout is a file redirected with '>', output of the
// caller after the writer (here "after") would overwrite what the writer wrote.
TEST(AtomicFileWriter, StdStreamsAreWrittenAtTheCallersPosition) {
  TempDir dir;
  CsrMatrix p = CsrMatrix::Zeros(2, 5);
  p.indptr = {0, 2, 3};
  p.indices = {3, 1, 4};
  p.data = {0.5f, 0.25f, 1.0f};
  WritePredictionText(dir.File("expected.txt"), p.view());
  const std::string lines = ReadBytes(dir.File("expected.txt"));
  ASSERT_EQ(lines, "3:0.5 1:0.25\n4:1\n");
  for (const char* path : {"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"}) {
    SCOPED_TRACE(path);
    const std::string out = RunWithDescriptorToFile(1, dir.File("out.txt"), [&] {
      std::printf("before\n");  // buffered by stdio: the writer must flush it first
      WritePredictionText(path, p.view());
      std::printf("after\n");
      std::fflush(stdout);
    });
    EXPECT_EQ(out, "before\n" + lines + "after\n");
  }
  const std::string err = RunWithDescriptorToFile(2, dir.File("err.txt"), [&] {
    std::fprintf(stderr, "before\n");
    detail::WriteFileAtomic("/dev/stderr", "middle\n");
    std::fprintf(stderr, "after\n");
  });
  EXPECT_EQ(err, "before\nmiddle\nafter\n");
  // A descriptor open for reading only is refused (and one not open at all).
  const int ro = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(ro, 0);
  const std::string ro_path = "/dev/fd/" + std::to_string(ro);
  ExpectError([&] { AtomicFileWriter w(ro_path); }, ErrorCode::kIoError,
              {ro_path, "not open for writing"});
  ::close(ro);
  ExpectError([&] { AtomicFileWriter w(ro_path); }, ErrorCode::kIoError, {ro_path});
}

TEST(AtomicFileWriter, UnwritableLocationIsIoError) {
  TempDir dir;
  ExpectError([&] { AtomicFileWriter w(dir.File("no/such/dir/f.txt")); }, ErrorCode::kIoError,
              {"no/such/dir/f.txt", "No such file"});
}

// Child-process body: writes 4 MiB under a 64 KiB file-size limit. Returns 0 if the writer
// threw Error(kIoError) naming the file, and neither the file nor its temporary remains.
int WriteUnderFileSizeLimit(const std::string& path) {
  ::signal(SIGXFSZ, SIG_IGN);  // the failing write then returns EFBIG instead of killing us
  struct rlimit lim;
  lim.rlim_cur = lim.rlim_max = 1 << 16;
  ::setrlimit(RLIMIT_FSIZE, &lim);
  try {
    AtomicFileWriter w(path);
    std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 4; ++i) w.Write(chunk.data(), chunk.size());
    w.Commit();
  } catch (const Error& e) {
    const std::string temp = path + ".tmp." + std::to_string(::getpid());
    const bool ok = e.code() == ErrorCode::kIoError &&
                    e.message().find("big.bin") != std::string::npos &&
                    e.message().find("write failed") != std::string::npos &&
                    ::access(temp.c_str(), F_OK) != 0 && ::access(path.c_str(), F_OK) != 0;
    return ok ? 0 : 2;
  }
  return 1;
}

// A full disk is simulated with RLIMIT_FSIZE (write(2) fails with EFBIG, as with ENOSPC).
TEST(AtomicFileWriterDeathTest, WriteErrorIsReportedAndTempRemoved) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  const std::string path = dir.File("big.bin");
  EXPECT_EXIT(
      {
        const int rc = WriteUnderFileSizeLimit(path);
        std::error_code ec;  // the child's own TempDir: _Exit skips ~TempDir
        std::filesystem::remove_all(dir.path(), ec);
        std::_Exit(rc);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace xmr
