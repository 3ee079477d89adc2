#include "core/io/atomic_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <streambuf>
#include <vector>

#include "core/tensor/error.h"

namespace attnlab {

namespace fs = std::filesystem;

namespace {

// A write-only streambuf on a file descriptor. std::ofstream reports a failed write only as
// badbit (and its close() result is lost in the destructor); this keeps the errno of the first
// failed write(2), so a full disk is reported as "No space left on device".
class FdStreambuf : public std::streambuf {
 public:
  explicit FdStreambuf(int fd) : fd_(fd), buf_(1 << 16) {
    setp(buf_.data(), buf_.data() + buf_.size());
  }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  // Writes the buffered bytes, retrying short writes and EINTR.
  bool drain() {
    if (error_) return false;
    const char* p = pbase();
    while (p < pptr()) {
      ssize_t n = ::write(fd_, p, size_t(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = n < 0 ? errno : EIO;
        return false;
      }
      p += n;
    }
    setp(buf_.data(), buf_.data() + buf_.size());
    return true;
  }

  int fd_;
  std::vector<char> buf_;
  int error_ = 0;
};

// Throws Error(what + reason) for a failed system call.
[[noreturn]] void fail(const std::string& what, int err) {
  throw Error(what + ": " + std::strerror(err));
}

// Writes `tmp` completely and durably: the stream, then fsync (data on disk before the rename
// makes it visible), then close (NFS and some file systems report write errors only here).
void write_temp(const std::string& tmp, const std::function<void(std::ostream&)>& write) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create temp file " + tmp, errno);
  FdStreambuf buf(fd);
  std::ostream out(&buf);
  try {
    write(out);
  } catch (...) {
    ::close(fd);
    throw;
  }
  out.flush();
  if (!out) {
    int err = buf.error() ? buf.error() : EIO;
    ::close(fd);
    fail("write failed", err);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    fail("fsync failed", err);
  }
  if (::close(fd) != 0) fail("close failed", errno);
}

// After a rename the folder entry itself must reach the disk, or a power loss can bring the
// old file back (or none). Best effort: some file systems cannot fsync a folder.
void sync_folder(const fs::path& folder) {
  int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  fs::path target(path);
  if (target.has_parent_path() && !fs::exists(target.parent_path()))
    throw Error("cannot write " + path + ": folder " + target.parent_path().string() + " does not exist");
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  try {
    write_temp(tmp, write);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("rename failed", errno);
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error("cannot write " + path + ": " + e.what());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  sync_folder(target.parent_path());
}

void remove_stale_temp_files(const std::string& path) {
  fs::path target(path);
  fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string prefix = target.filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) {
      std::error_code rm;
      fs::remove(entry.path(), rm);
    }
  }
}

}  // namespace attnlab
