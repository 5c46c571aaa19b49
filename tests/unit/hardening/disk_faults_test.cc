// Disk faults while saving: every writer of a model or a data file, aimed at a path that already
// holds an earlier file, must fail with Error(kIoError) naming the path when the location is
// read-only or the disk is full, leave the earlier file byte for byte as it was, and leave no
// temporary file behind.
//
// The faults are made in forked children, which report through their exit status:
//  * read-only: a directory of mode 0555; as root (which permission bits do not stop) the child
//    first drops to uid/gid 65534 ("nobody");
//  * full disk: a 1 MiB tmpfs mounted in a private mount namespace of the child (so nothing
//    is left mounted whatever happens), filled up but for a few pages: writes fail with ENOSPC
//    after a partial write. Needs CAP_SYS_ADMIN; skipped otherwise;
//  * file size limit: RLIMIT_FSIZE with SIGXFSZ ignored, so writes past the limit fail with
//    EFBIG as they do on a full disk. Works everywhere.
#include <fcntl.h>
#include <grp.h>  // for setgroups
#include <gtest/gtest.h>
#include <sched.h>  // for unshare
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "hardening_util.h"
#include "io/formats.h"  // for XmbStreamWriter
#include "text_corpus.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/text_model.h"

namespace xmr {
namespace {

using hardening::kChildSkip;
using hardening::RunInChild;
using testing_util::Quiet;
using testing_util::ReadBytes;
using testing_util::TempDir;
using testing_util::WriteBytes;

// Exit statuses of the children.
enum ChildStatus {
  kOk = 0,              // Error(kIoError) naming the path; nothing else wrong
  kNoError = 1,         // the writer succeeded
  kWrongCode = 2,       // an xmr::Error of another code
  kPathNotNamed = 3,    // the message does not name the path
  kOtherException = 4,  // not an xmr::Error
  kEarlierChanged = 5,  // (checked in the child) the earlier file is not intact
  kLeftovers = 6,       // (checked in the child) other files in the directory
  kSetupFailed = 7,     // the child could not set up the fault
};

struct Writer {
  std::string name;
  std::string file;  // file name within the target directory
  std::function<void(const std::string& path)> write;
};

// The data every writer writes: large enough (> 16 KiB each) that a few free pages or a 4 KiB
// file size limit stop it half-way.
struct Payload {
  XLinearModel model;
  TextModel text_model;
  CsrMatrix x, y;
};

const Payload& Data() {
  static const Payload p = [] {
    Payload d;
    d.model = testing_util::RandomModel(3, {4, 48}, 400, testing_util::KeepOneIn(3));
    const hardening::TextCorpus c = hardening::MakeTextCorpus(300, 5);
    TextTrainOptions opts;
    opts.train.indexer.max_leaf_size = 2;
    opts.train.indexer.nr_splits = 2;
    d.text_model = TextModel::Train(c.texts, c.y.view(), opts, Quiet(2));
    d.x = testing_util::RandomCsr(400, 300, 0.05, 7);
    d.y = testing_util::RandomBinaryCsr(400, 30, 0.1, 8);
    return d;
  }();
  return p;
}

const std::vector<Writer>& Writers() {
  static const std::vector<Writer> w = {
      {"SaveModel", "model.xmr", [](const std::string& p) { SaveModel(Data().model, p); }},
      {"TextModel::Save", "text.xmr", [](const std::string& p) { Data().text_model.Save(p); }},
      {"WriteNpz", "x.npz", [](const std::string& p) { WriteNpz(p, Data().x.view()); }},
      {"WriteNpz(csc)", "xc.npz",
       [](const std::string& p) { WriteNpz(p, CsrToCsc(Data().x.view()).view(), true); }},
      {"WriteBinary", "x.xmb", [](const std::string& p) { WriteBinary(p, Data().x.view()); }},
      {"WriteXmlRepo", "d.txt",
       [](const std::string& p) { WriteXmlRepo(p, Data().x.view(), Data().y.view()); }},
      {"WritePredictionText", "pred.txt",
       [](const std::string& p) { WritePredictionText(p, Data().x.view()); }},
  };
  return w;
}

const std::string kEarlier = "earlier contents of the file\n";

// Child side: runs the writer and classifies what it threw.
int ExpectIoError(const Writer& w, const std::string& path) {
  try {
    w.write(path);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", w.name.c_str(), e.what());
    if (e.code() != ErrorCode::kIoError) return kWrongCode;
    if (e.message().find(path) == std::string::npos) return kPathNotNamed;
    return kOk;
  } catch (...) {
    return kOtherException;
  }
  return kNoError;
}

std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Describe(int rc) {
  switch (rc) {
    case kOk:
      return "ok";
    case kNoError:
      return "the writer did not fail";
    case kWrongCode:
      return "an error code other than kIoError";
    case kPathNotNamed:
      return "the message does not name the path";
    case kOtherException:
      return "an exception other than xmr::Error";
    case kEarlierChanged:
      return "the earlier file changed";
    case kLeftovers:
      return "files were left behind";
    case kSetupFailed:
      return "the child could not set up the fault";
  }
  return "child ended with status " + std::to_string(rc);
}

// Drops root's privileges (to nobody) so that permission bits apply; then checks that `dir`
// really refuses new files. Returns kOk, or kChildSkip when the directory is still writable.
int BecomeUnprivileged(const std::string& dir) {
  if (::geteuid() == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      return kChildSkip;
    }
  }
  const std::string probe = dir + "/probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
    return kChildSkip;
  }
  return kOk;
}

// Every writer succeeds normally, replaces the earlier file and writes enough bytes for the
// faults below to hit it mid-way (a precondition of the other tests).
TEST(DiskFaults, WritersReplaceTheEarlierFileAndLeaveNothingElse) {
  TempDir dir;
  for (const Writer& w : Writers()) {
    SCOPED_TRACE(w.name);
    const std::string path = dir.File(w.file);
    WriteBytes(path, kEarlier);
    w.write(path);
    const std::string bytes = ReadBytes(path);
    EXPECT_NE(bytes, kEarlier);
    EXPECT_GT(bytes.size(), 16u << 10);
  }
  std::vector<std::string> want;
  for (const Writer& w : Writers()) want.push_back(w.file);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Listing(dir.path()), want);
}

TEST(DiskFaults, ReadOnlyDirectory) {
  Data();  // built here, not in every child
  TempDir dir;
  // mkdtemp makes the directory 0700: let nobody walk through it.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const std::string ro = dir.File("ro");
  ASSERT_EQ(::mkdir(ro.c_str(), 0755), 0);
  for (const Writer& w : Writers()) WriteBytes(ro + "/" + w.file, kEarlier);
  ASSERT_EQ(::chmod(ro.c_str(), 0555), 0);
  std::vector<std::string> want = Listing(ro);
  for (const Writer& w : Writers()) {
    SCOPED_TRACE(w.name);
    const std::string path = ro + "/" + w.file;
    const int rc = RunInChild([&] {
      const int ok = BecomeUnprivileged(ro);
      return ok != kOk ? ok : ExpectIoError(w, path);
    });
    if (rc == kChildSkip) GTEST_SKIP() << "cannot make a directory read-only for this process";
    EXPECT_EQ(rc, kOk) << Describe(rc);
    EXPECT_EQ(ReadBytes(path), kEarlier);
  }
  // ExportPecos creates a directory there first.
  const int rc = RunInChild([&] {
    const int ok = BecomeUnprivileged(ro);
    if (ok != kOk) return ok;
    const std::string out = ro + "/pecos";
    try {
      ExportPecos(Data().model, out);
    } catch (const Error& e) {
      std::fprintf(stderr, "ExportPecos: %s\n", e.what());
      return e.code() == ErrorCode::kIoError && e.message().find(out) != std::string::npos
                 ? static_cast<int>(kOk)
                 : static_cast<int>(kWrongCode);
    }
    return static_cast<int>(kNoError);
  });
  EXPECT_EQ(rc, kOk) << "ExportPecos: " << Describe(rc);
  EXPECT_EQ(Listing(ro), want);
  ::chmod(ro.c_str(), 0755);
}

// Child side of the full-disk test: mounts a 1 MiB tmpfs on `mnt` in a private mount namespace,
// writes the earlier file, fills the file system but for `free_bytes`, runs the writer and
// checks the earlier file and the directory itself (the parent cannot see this mount).
int FullDiskChild(const Writer& w, const std::string& mnt, std::size_t free_bytes) {
  if (::unshare(CLONE_NEWNS) != 0) return kChildSkip;
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kChildSkip;
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m,mode=0755") != 0) return kChildSkip;
  const std::string path = mnt + "/" + w.file;
  const std::string filler = mnt + "/filler";
  try {
    WriteBytes(path, kEarlier);
  } catch (...) {
    return kSetupFailed;
  }
  const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return kSetupFailed;
  const std::string block(4096, 'f');
  off_t size = 0;
  for (;;) {
    const ssize_t k = ::write(fd, block.data(), block.size());
    if (k > 0) size += k;
    if (k < 0 && errno == ENOSPC) break;
    if (k <= 0 && errno != EINTR) return kSetupFailed;
  }
  // Free a few pages again: the writer gets some bytes out before the disk is full.
  if (::ftruncate(fd, std::max<off_t>(0, size - static_cast<off_t>(free_bytes))) != 0) {
    return kSetupFailed;
  }
  ::close(fd);
  const int rc = ExpectIoError(w, path);
  if (rc != kOk) return rc;
  if (ReadBytes(path) != kEarlier) return kEarlierChanged;
  std::vector<std::string> want = {w.file, "filler"};
  std::sort(want.begin(), want.end());
  if (Listing(mnt) != want) {
    for (const std::string& n : Listing(mnt)) std::fprintf(stderr, "left: %s\n", n.c_str());
    return kLeftovers;
  }
  return kOk;
}

TEST(DiskFaults, FullDisk) {
  Data();
  TempDir dir;
  const std::string mnt = dir.File("disk");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  for (const std::size_t free_bytes : {std::size_t{0}, std::size_t{8} << 10}) {
    for (const Writer& w : Writers()) {
      SCOPED_TRACE(w.name + ", " + std::to_string(free_bytes) + " bytes free");
      const int rc = RunInChild([&] { return FullDiskChild(w, mnt, free_bytes); });
      if (rc == kChildSkip) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN)";
      EXPECT_EQ(rc, kOk) << Describe(rc);
    }
  }
  EXPECT_TRUE(Listing(mnt).empty());  // the mount was the child's alone
}

TEST(DiskFaults, FileSizeLimit) {
  Data();
  TempDir dir;
  for (const Writer& w : Writers()) WriteBytes(dir.File(w.file), kEarlier);
  const std::vector<std::string> want = Listing(dir.path());
  for (const Writer& w : Writers()) {
    SCOPED_TRACE(w.name);
    const std::string path = dir.File(w.file);
    const int rc = RunInChild([&] {
      ::signal(SIGXFSZ, SIG_IGN);  // write(2) then fails with EFBIG instead of killing us
      struct rlimit lim;
      lim.rlim_cur = lim.rlim_max = 4096;
      if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return static_cast<int>(kSetupFailed);
      return ExpectIoError(w, path);
    });
    EXPECT_EQ(rc, kOk) << Describe(rc);
    EXPECT_EQ(ReadBytes(path), kEarlier);
    EXPECT_EQ(Listing(dir.path()), want);
  }
}

// ----- what a successful save replaces -------------------------------------------------------

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

// A saved file replaces the earlier one with its permission bits: a private (0600) model stays
// private, a read-only (0444) one stays read-only. A new file gets 0644 less the umask.
TEST(AtomicSave, ReplacementKeepsThePermissionBits) {
  Data();
  TempDir dir;
  for (const Writer& w : Writers()) {
    SCOPED_TRACE(w.name);
    const std::string path = dir.File(w.file);
    for (const mode_t mode : {mode_t{0600}, mode_t{0444}, mode_t{0640}}) {
      WriteBytes(path, kEarlier);
      ASSERT_EQ(::chmod(path.c_str(), mode), 0);
      w.write(path);
      EXPECT_NE(ReadBytes(path), kEarlier);
      EXPECT_EQ(ModeOf(path), mode);
    }
    ASSERT_EQ(::unlink(path.c_str()), 0);
    const mode_t mask = ::umask(022);
    ::umask(mask);
    w.write(path);
    EXPECT_EQ(ModeOf(path), 0644 & ~mask);
  }
}

// Something planted under the temporary name (".tmp.<pid>", predictable in a shared directory)
// is never written through: a symlink there is replaced, its target left alone.
TEST(AtomicSave, PlantedTemporarySymlinkIsNotFollowed) {
  Data();
  TempDir dir;
  const std::string victim = dir.File("victim");
  for (const Writer& w : Writers()) {
    SCOPED_TRACE(w.name);
    WriteBytes(victim, "victim's contents");
    const std::string path = dir.File(w.file);
    const std::string temp = path + ".tmp." + std::to_string(::getpid());
    std::filesystem::create_symlink(victim, temp);
    w.write(path);
    EXPECT_TRUE(ReadBytes(victim) == "victim's contents") << "written through the symlink";
    EXPECT_GT(ReadBytes(path).size(), 16u << 10);
    EXPECT_FALSE(std::filesystem::is_symlink(path));
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(temp)));
  }
  // The streaming .xmb writer's scratch file for the values, likewise.
  WriteBytes(victim, "victim's contents");
  const std::string path = dir.File("stream.xmb");
  std::filesystem::create_symlink(victim, path + ".tmp." + std::to_string(::getpid()) + ".values");
  const CsrMatrix& x = Data().x;
  {
    detail::XmbStreamWriter out(path, x.cols, x.indptr);
    out.Append(x.view());
    out.Commit();
  }
  EXPECT_TRUE(ReadBytes(victim) == "victim's contents") << "written through the symlink";
  testing_util::ExpectCsrEq(ReadBinaryCsr(path), x);
}

}  // namespace
}  // namespace xmr
