#pragma once
/// @file skeleton.hpp
/// @brief 3-D curve skeleton of a binary mask by directional sequential thinning with a simple-point test
/// (topology kept: 26-connected object, 6-connected background; curve ends kept).

#include <cstdint>

#include "spinescope/volume.hpp"

namespace spinescope::stages::dendrites {

/// @brief True when the centre of the 3×3×3 neighbourhood @p nb (bit (dz+1)·9 + (dy+1)·3 + (dx+1) set for an
/// object voxel) can be removed without changing topology (Bertrand & Malandain 1994 characterisation).
bool is_simple_point(std::uint32_t nb);

/// @brief Thins @p mask (nonzero = object) in place to a one-voxel-wide curve skeleton. Voxels outside the volume
/// are background, except that with @p anchor_xy_faces the layers beyond the x and y faces count as fixed object
/// (a dendrite cut by such a face then keeps a skeleton that runs straight into the face). Deterministic.
void thin_to_skeleton(Volume<std::uint8_t>& mask, bool anchor_xy_faces = false);

}  // namespace spinescope::stages::dendrites
