#pragma once
// A seeded random generator with our own uniform/normal transforms, so that streams are
// identical across compilers and standard libraries (std::normal_distribution is not).
#include <cmath>
#include <cstdint>

namespace attnlab {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    state_ = seed ^ 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 4; ++i) s_[i] = splitmix();
  }

  // xoshiro256** (public-domain algorithm by Blackman & Vigna).
  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform() { return double(next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  float uniformf(float lo, float hi) { return lo + float(uniform()) * (hi - lo); }
  // Uniform integer in [0, n).
  int64_t below(int64_t n) { return n <= 0 ? 0 : int64_t(next_u64() % uint64_t(n)); }
  // Standard normal (Box-Muller, no cached second value so the stream is easy to reason about).
  double normal() {
    double u1 = uniform();
    double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  uint64_t state_word(int i) const { return s_[i]; }
  void set_state_word(int i, uint64_t v) { s_[i] = v; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t splitmix() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_ = 0;
  uint64_t s_[4] = {};
};

}  // namespace attnlab
