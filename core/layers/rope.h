#pragma once
// Rotary position embedding (Su et al.) applied in place to x [B, H, T, Dh]. Only the first
// `rot_dims` of each head rotate (GPT-NeoX partial rotary); frequency i is theta^(-2i/rot_dims).
#include "core/model/config.h"

namespace attnlab {

// inverse = true rotates by the negative angle: the backward of the forward rotation.
// Row t sits at position pos0 + t (cached decoding rotates new keys at their true positions).
void rope_apply(float* x, int B, int H, int T, int Dh, int rot_dims, float theta, RopeStyle style,
                bool inverse, int pos0 = 0);

}  // namespace attnlab
