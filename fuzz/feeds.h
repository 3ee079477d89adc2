#pragma once
// What each fuzz target does with one input (defined in fuzz/fuzz_NAME.cpp). Each returns
// normally or throws attnlab::Error; anything else is a finding.
#include <cstddef>
#include <cstdint>

namespace attnlab::fuzz {

void feed_gguf(const uint8_t* data, size_t size);
void feed_safetensors(const uint8_t* data, size_t size);
void feed_llama2c(const uint8_t* data, size_t size);
void feed_llama2c_tokenizer(const uint8_t* data, size_t size);
void feed_hf_tokenizer(const uint8_t* data, size_t size);
void feed_hf_config(const uint8_t* data, size_t size);
void feed_checkpoint(const uint8_t* data, size_t size);
void feed_attention_spec(const uint8_t* data, size_t size);
void feed_task_spec(const uint8_t* data, size_t size);   // needs datasets/
void feed_study_spec(const uint8_t* data, size_t size);  // needs experiments/spec/

}  // namespace attnlab::fuzz
