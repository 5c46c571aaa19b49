#include "io/atomic_file.h"

#include <fcntl.h>     // for open, fcntl
#include <sys/stat.h>  // for stat
#include <unistd.h>    // for write, fsync, getpid

#include <cerrno>
#include <cstdio>   // for std::rename, std::fflush
#include <cstdlib>  // for realpath, free
#include <cstring>
#include <streambuf>

#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxReserve = std::size_t{64} << 10;
constexpr std::size_t kMaxWriteCall = std::size_t{1} << 30;

std::string DirName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The process's own descriptor that `path` names ("/dev/stdout" -> 1, "/dev/stderr" -> 2,
// "/dev/fd/N" and "/proc/self/fd/N" -> N), or -1 for any other path.
int OwnDescriptor(const std::string& path) {
  if (path == "/dev/stdout") return STDOUT_FILENO;
  if (path == "/dev/stderr") return STDERR_FILENO;
  std::string_view num;
  for (const std::string_view prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
      num = std::string_view(path).substr(prefix.size());
    }
  }
  if (num.empty() || num.size() > 9) return -1;
  int fd = 0;
  for (const char c : num) {
    if (c < '0' || c > '9') return -1;
    fd = fd * 10 + (c - '0');
  }
  return fd;
}

}  // namespace

// Small put area in front of the writer, so that `stream() << x` does not go through a virtual
// call per character.
class AtomicFileWriter::StreamBuf : public std::streambuf {
 public:
  explicit StreamBuf(AtomicFileWriter* w) : w_(w) { setp(area_, area_ + sizeof(area_)); }
  // Moves pending characters into the writer (keeps output order when Write() is interleaved).
  void Drain() {
    const std::size_t k = static_cast<std::size_t>(pptr() - pbase());
    if (k == 0) return;
    setp(area_, area_ + sizeof(area_));
    w_->WriteUnbuffered(area_, k);
  }

 protected:
  int_type overflow(int_type c) override {
    Drain();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n > epptr() - pptr()) {
      Drain();
      w_->WriteUnbuffered(s, static_cast<std::size_t>(n));
      return n;
    }
    std::memcpy(pptr(), s, static_cast<std::size_t>(n));
    pbump(static_cast<int>(n));
    return n;
  }
  int sync() override {
    Drain();
    return 0;
  }

 private:
  AtomicFileWriter* w_;
  char area_[4096];
};

AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path), target_(path) {
  // Allocated first: once the temporary exists, nothing may throw without removing it.
  buf_ = std::make_unique<char[]>(kBufferBytes);
  const int own_fd = OwnDescriptor(path);
  // Devices, FIFOs and /proc files are written in place (never created: a missing /dev/x is an
  // error); a regular file anywhere else, /dev/shm (a tmpfs) included, gets temporary + rename.
  bool in_place = (path.compare(0, 5, "/dev/") == 0 && path.compare(0, 9, "/dev/shm/") != 0) ||
                  path.compare(0, 6, "/proc/") == 0;
  struct stat st;
  bool replacing = false;  // a regular file exists at path: keep its permission bits
  mode_t replaced_mode = 0;
  if (!in_place && ::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      in_place = true;
    } else {
      replacing = true;
      replaced_mode = st.st_mode & 0777;
      if (char* real = ::realpath(path.c_str(), nullptr)) {
        target_ = real;
        std::free(real);
      }
    }
  }
  if (own_fd >= 0) {
    // Writing through a duplicate shares the caller's file offset: output lands at the current
    // position (after anything already printed) and later writes of the caller follow it.
    // Re-opening the path would start a new offset (overwriting, with '>', whatever the caller
    // writes next) or append past it.
    if (own_fd == STDOUT_FILENO) std::fflush(stdout);  // keep order with buffered stdio output
    if (own_fd == STDERR_FILENO) std::fflush(stderr);
    fd_ = ::fcntl(own_fd, F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) {
      const int err = errno;
      throw Error(ErrorCode::kIoError, path_ + ": cannot open for writing: " + std::strerror(err));
    }
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) {
      ::close(fd_);
      fd_ = -1;
      throw Error(ErrorCode::kIoError, path_ + ": cannot open for writing: descriptor " +
                                           std::to_string(own_fd) + " is not open for writing");
    }
  } else if (in_place) {
    // Devices and pipes cannot be replaced by a rename; appending also keeps a shell's ">>".
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      throw Error(ErrorCode::kIoError, path_ + ": cannot open for writing: " + std::strerror(err));
    }
  } else {
    temp_path_ = target_ + ".tmp." + std::to_string(::getpid());
    // A fresh file, never one found under the temporary name: O_EXCL | O_NOFOLLOW do not write
    // through a symlink planted there (e.g. in a shared directory); a stale temporary left by
    // an earlier process with our pid is removed (unlink removes a link, not its target).
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    fd_ = ::open(temp_path_.c_str(), flags, 0644);
    if (fd_ < 0 && errno == EEXIST && ::unlink(temp_path_.c_str()) == 0) {
      fd_ = ::open(temp_path_.c_str(), flags, 0644);
    }
    if (fd_ < 0) {
      const int err = errno;
      throw Error(ErrorCode::kIoError,
                  path_ + ": cannot create file (" + temp_path_ + "): " + std::strerror(err));
    }
    // The new file keeps the permissions of the one it replaces (as sed -i does): a private
    // 0600 file must not become readable by others because it was saved again.
    if (replacing && ::fchmod(fd_, replaced_mode) != 0) Fail("fchmod", errno);
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::Fail(const char* op, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  throw Error(ErrorCode::kIoError, path_ + ": " + op + " failed: " + std::strerror(err));
}

void AtomicFileWriter::WriteFd(const char* data, std::size_t n) {
  if (fd_ < 0) {
    throw Error(ErrorCode::kIoError, path_ + ": write after the file was closed or failed");
  }
  while (n > 0) {
    const ssize_t k = ::write(fd_, data, std::min(n, kMaxWriteCall));
    if (k < 0) {
      if (errno == EINTR) continue;
      Fail("write", errno);
    }
    if (k == 0) Fail("write", EIO);
    data += k;
    n -= static_cast<std::size_t>(k);
    flushed_ += k;
  }
}

void AtomicFileWriter::Flush() {
  if (used_ == 0) return;
  const std::size_t n = used_;
  used_ = 0;
  WriteFd(buf_.get(), n);
}

void AtomicFileWriter::WriteUnbuffered(const char* data, std::size_t n) {
  if (used_ + n <= kBufferBytes) {
    std::memcpy(buf_.get() + used_, data, n);
    used_ += n;
    return;
  }
  Flush();
  if (n >= kBufferBytes / 2) {
    WriteFd(data, n);
  } else {
    std::memcpy(buf_.get(), data, n);
    used_ = n;
  }
}

void AtomicFileWriter::Write(const void* data, std::size_t n) {
  if (streambuf_) streambuf_->Drain();
  WriteUnbuffered(static_cast<const char*>(data), n);
}

void AtomicFileWriter::WriteAt(std::int64_t offset, const void* data, std::size_t n) {
  if (temp_path_.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                path_ + ": cannot rewrite earlier bytes of a device or FIFO output");
  }
  if (streambuf_) streambuf_->Drain();
  if (offset < 0 || offset + static_cast<std::int64_t>(n) > bytes_written()) {
    throw Error(ErrorCode::kInternal, path_ + ": WriteAt outside the bytes written");
  }
  Flush();
  if (fd_ < 0) throw Error(ErrorCode::kIoError, path_ + ": write after a failed write");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::pwrite(fd_, p, std::min(n, kMaxWriteCall), offset);
    if (k < 0) {
      if (errno == EINTR) continue;
      Fail("pwrite", errno);
    }
    if (k == 0) Fail("pwrite", EIO);
    p += k;
    offset += k;
    n -= static_cast<std::size_t>(k);
  }
}

char* AtomicFileWriter::Reserve(std::size_t n) {
  if (n > kMaxReserve) throw Error(ErrorCode::kInternal, "AtomicFileWriter::Reserve: too large");
  if (streambuf_) streambuf_->Drain();
  if (used_ + n > kBufferBytes) Flush();
  return buf_.get() + used_;
}

std::ostream& AtomicFileWriter::stream() {
  if (!stream_) {
    streambuf_ = std::make_unique<StreamBuf>(this);
    stream_ = std::make_unique<std::ostream>(streambuf_.get());
    stream_->exceptions(std::ios::badbit);
  }
  return *stream_;
}

void AtomicFileWriter::Commit() {
  if (committed_) throw Error(ErrorCode::kInternal, path_ + ": Commit called twice");
  if (streambuf_) streambuf_->Drain();
  Flush();
  if (fd_ < 0) throw Error(ErrorCode::kIoError, path_ + ": commit after a failed write");
  // Pipes, terminals and some devices cannot be synced; that is not an error.
  if (::fsync(fd_) != 0 && !(temp_path_.empty() && (errno == EINVAL || errno == ENOTSUP))) {
    Fail("fsync", errno);
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    throw Error(ErrorCode::kIoError, path_ + ": close failed: " + std::strerror(err));
  }
  if (temp_path_.empty()) {
    committed_ = true;
    return;
  }
  if (std::rename(temp_path_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_path_.c_str());
    throw Error(ErrorCode::kIoError,
                path_ + ": rename from " + temp_path_ + " failed: " + std::strerror(err));
  }
  committed_ = true;
  // Make the rename itself durable; failure here does not lose data already visible.
  const int dir = ::open(DirName(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void WriteFileAtomic(const std::string& path, std::string_view contents) {
  AtomicFileWriter out(path);
  out.Write(contents);
  out.Commit();
}

}  // namespace detail
}  // namespace xmr
