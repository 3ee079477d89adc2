#pragma once
// ggml tensor types as GGUF stores them, and their dequantization to float. Block layouts and
// formulas follow ggml's reference dequantize_row_* functions (ggml-quants.c) exactly.
#include <cstdint>
#include <string>

namespace attnlab {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, BF16 = 30,
};

struct GgmlTypeInfo {
  const char* name;
  int block_size;   // elements per block
  int block_bytes;  // bytes per block
};

// nullptr for a type we cannot dequantize (the caller names it in its error).
const GgmlTypeInfo* ggml_type_info(uint32_t type);
std::string ggml_type_name(uint32_t type);  // "Q4_K", or "type 23" when unknown

// Decodes n elements (a multiple of the block size) from src into dst.
void ggml_dequantize(uint32_t type, const unsigned char* src, float* dst, int64_t n);

}  // namespace attnlab
