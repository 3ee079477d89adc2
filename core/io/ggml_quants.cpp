#include "core/io/ggml_quants.h"

#include <cstring>

#include "core/io/half.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

constexpr int QK = 32;    // block size of the legacy quants
constexpr int QK_K = 256; // super-block size of the k-quants

float half_at(const unsigned char* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_float(h);
}

void deq_q4_0(const unsigned char* b, float* y) {  // d, qs[16]
  float d = half_at(b);
  const unsigned char* qs = b + 2;
  for (int j = 0; j < QK / 2; ++j) {
    y[j] = (int(qs[j] & 0x0F) - 8) * d;
    y[j + QK / 2] = (int(qs[j] >> 4) - 8) * d;
  }
}

void deq_q4_1(const unsigned char* b, float* y) {  // d, m, qs[16]
  float d = half_at(b), m = half_at(b + 2);
  const unsigned char* qs = b + 4;
  for (int j = 0; j < QK / 2; ++j) {
    y[j] = (qs[j] & 0x0F) * d + m;
    y[j + QK / 2] = (qs[j] >> 4) * d + m;
  }
}

// Q5_0 / Q5_1: the fifth bit of element j lives in bit j of qh (elements 16..31 in bits 16..31).
void deq_q5(const unsigned char* b, float* y, bool with_min) {
  float d = half_at(b), m = with_min ? half_at(b + 2) : 0.0f;
  const unsigned char* p = b + (with_min ? 4 : 2);
  uint32_t qh;
  std::memcpy(&qh, p, 4);
  const unsigned char* qs = p + 4;
  for (int j = 0; j < QK / 2; ++j) {
    int hi0 = ((qh >> j) << 4) & 0x10;
    int hi1 = (qh >> (j + 12)) & 0x10;
    int x0 = (qs[j] & 0x0F) | hi0;
    int x1 = (qs[j] >> 4) | hi1;
    if (with_min) {
      y[j] = x0 * d + m;
      y[j + QK / 2] = x1 * d + m;
    } else {
      y[j] = (x0 - 16) * d;
      y[j + QK / 2] = (x1 - 16) * d;
    }
  }
}

void deq_q8_0(const unsigned char* b, float* y) {  // d, int8 qs[32]
  float d = half_at(b);
  for (int j = 0; j < QK; ++j) y[j] = static_cast<int8_t>(b[2 + j]) * d;
}

// 6-bit scale and min j (of 8) packed into 12 bytes, as ggml's get_scale_min_k4.
void scale_min_k4(int j, const unsigned char* q, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void deq_q2_k(const unsigned char* b, float* y) {  // scales[16], qs[64], d, dmin
  const unsigned char* scales = b;
  const unsigned char* q = b + 16;
  float d = half_at(b + 80), dmin = half_at(b + 82);
  int is = 0;
  for (int n = 0; n < QK_K; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        int sc = scales[is++];
        float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l + 16 * half] >> shift) & 3) - ml;
      }
    }
    q += 32;
  }
}

void deq_q3_k(const unsigned char* b, float* y) {  // hmask[32], qs[64], scales[12], d
  const unsigned char* hm = b;
  const unsigned char* q = b + 32;
  const unsigned char* packed = b + 96;
  float d_all = half_at(b + 108);
  // 16 six-bit scales: low 4 bits in bytes 0..7 (two per byte), high 2 bits in bytes 8..11.
  int scales[16];
  for (int j = 0; j < 16; ++j) {
    int lo = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
    int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = (lo | hi << 4) - 32;
  }
  int is = 0;
  unsigned char m = 1;
  for (int n = 0; n < QK_K; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        float dl = d_all * scales[is++];
        for (int l = 0; l < 16; ++l) {
          int idx = l + 16 * half;
          int v = ((q[idx] >> shift) & 3) - ((hm[idx] & m) ? 0 : 4);
          *y++ = dl * v;
        }
      }
      m <<= 1;
    }
    q += 32;
  }
}

void deq_q4_k(const unsigned char* b, float* y) {  // d, dmin, scales[12], qs[128]
  float d = half_at(b), dmin = half_at(b + 2);
  const unsigned char* scales = b + 4;
  const unsigned char* q = b + 16;
  for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, q += 32) {
    int sc, m;
    scale_min_k4(is, scales, sc, m);
    float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, sc, m);
    float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
  }
}

void deq_q5_k(const unsigned char* b, float* y) {  // d, dmin, scales[12], qh[32], qs[128]
  float d = half_at(b), dmin = half_at(b + 2);
  const unsigned char* scales = b + 4;
  const unsigned char* qh = b + 16;
  const unsigned char* ql = b + 48;
  unsigned char u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    int sc, m;
    scale_min_k4(is, scales, sc, m);
    float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, sc, m);
    float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
  }
}

void deq_q6_k(const unsigned char* b, float* y) {  // ql[128], qh[64], int8 scales[16], d
  const unsigned char* ql = b;
  const unsigned char* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  float d = half_at(b + 208);
  for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is] * q1;
      y[l + 32] = d * sc[is + 2] * q2;
      y[l + 64] = d * sc[is + 4] * q3;
      y[l + 96] = d * sc[is + 6] * q4;
    }
  }
}

const GgmlTypeInfo kF32{"F32", 1, 4}, kF16{"F16", 1, 2}, kBF16{"BF16", 1, 2},
    kQ4_0{"Q4_0", 32, 18}, kQ4_1{"Q4_1", 32, 20}, kQ5_0{"Q5_0", 32, 22}, kQ5_1{"Q5_1", 32, 24},
    kQ8_0{"Q8_0", 32, 34}, kQ2_K{"Q2_K", 256, 84}, kQ3_K{"Q3_K", 256, 110}, kQ4_K{"Q4_K", 256, 144},
    kQ5_K{"Q5_K", 256, 176}, kQ6_K{"Q6_K", 256, 210};

}  // namespace

const GgmlTypeInfo* ggml_type_info(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::F32: return &kF32;
    case GgmlType::F16: return &kF16;
    case GgmlType::BF16: return &kBF16;
    case GgmlType::Q4_0: return &kQ4_0;
    case GgmlType::Q4_1: return &kQ4_1;
    case GgmlType::Q5_0: return &kQ5_0;
    case GgmlType::Q5_1: return &kQ5_1;
    case GgmlType::Q8_0: return &kQ8_0;
    case GgmlType::Q2_K: return &kQ2_K;
    case GgmlType::Q3_K: return &kQ3_K;
    case GgmlType::Q4_K: return &kQ4_K;
    case GgmlType::Q5_K: return &kQ5_K;
    case GgmlType::Q6_K: return &kQ6_K;
  }
  return nullptr;
}

std::string ggml_type_name(uint32_t type) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  return info ? info->name : "type " + std::to_string(type);
}

void ggml_dequantize(uint32_t type, const unsigned char* src, float* dst, int64_t n) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  if (!info) throw Error("cannot dequantize ggml " + ggml_type_name(type) + ": unsupported type");
  if (n % info->block_size != 0)
    throw Error("ggml " + std::string(info->name) + ": " + std::to_string(n) +
                " elements is not a multiple of the block size " + std::to_string(info->block_size));
  const int64_t nb = n / info->block_size;
  const int bs = info->block_size, bb = info->block_bytes;
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = half_at(src + 2 * i);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_float(h);
      }
      return;
    default: break;
  }
#pragma omp parallel for
  for (int64_t i = 0; i < nb; ++i) {
    const unsigned char* b = src + i * bb;
    float* y = dst + i * bs;
    switch (static_cast<GgmlType>(type)) {
      case GgmlType::Q4_0: deq_q4_0(b, y); break;
      case GgmlType::Q4_1: deq_q4_1(b, y); break;
      case GgmlType::Q5_0: deq_q5(b, y, false); break;
      case GgmlType::Q5_1: deq_q5(b, y, true); break;
      case GgmlType::Q8_0: deq_q8_0(b, y); break;
      case GgmlType::Q2_K: deq_q2_k(b, y); break;
      case GgmlType::Q3_K: deq_q3_k(b, y); break;
      case GgmlType::Q4_K: deq_q4_k(b, y); break;
      case GgmlType::Q5_K: deq_q5_k(b, y); break;
      case GgmlType::Q6_K: deq_q6_k(b, y); break;
      default: break;
    }
  }
}

}  // namespace attnlab
