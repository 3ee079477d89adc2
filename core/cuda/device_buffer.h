#pragma once
// An owning, typed GPU allocation (RAII): cudaMalloc on construction, cudaFree on destruction,
// move-only. Copies to and from the host are explicit and checked.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/cuda/check.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(int64_t n) { allocate(n); }
  explicit DeviceBuffer(const std::vector<T>& host) {
    allocate(int64_t(host.size()));
    upload(host);
  }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }

  T* get() { return ptr_; }
  const T* get() const { return ptr_; }
  int64_t size() const { return n_; }
  int64_t bytes() const { return n_ * int64_t(sizeof(T)); }

  void upload(const std::vector<T>& host) { upload(host.data(), int64_t(host.size())); }
  void upload(const T* host, int64_t n) {
    check_count(n, "upload");
    if (n) ATTNLAB_CUDA_CHECK(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice));
  }
  void download(T* host, int64_t n) const {
    check_count(n, "download");
    if (n) ATTNLAB_CUDA_CHECK(cudaMemcpy(host, ptr_, n * sizeof(T), cudaMemcpyDeviceToHost));
  }
  std::vector<T> to_host() const {
    std::vector<T> h(static_cast<size_t>(n_));
    download(h.data(), n_);
    return h;
  }
  void zero() {
    if (n_) ATTNLAB_CUDA_CHECK(cudaMemset(ptr_, 0, bytes()));
  }

 private:
  void allocate(int64_t n) {
    if (n < 0) throw Error("DeviceBuffer: negative size " + std::to_string(n));
    n_ = n;
    if (n) ATTNLAB_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), n * sizeof(T)));
  }
  void release() {
    if (ptr_) cudaFree(ptr_);  // never throws from a destructor
    ptr_ = nullptr;
    n_ = 0;
  }
  void check_count(int64_t n, const char* what) const {
    if (n != n_)
      throw Error(std::string("DeviceBuffer ") + what + ": " + std::to_string(n) +
                  " elements for a buffer of " + std::to_string(n_));
  }
  T* ptr_ = nullptr;
  int64_t n_ = 0;
};

}  // namespace attnlab::cuda
