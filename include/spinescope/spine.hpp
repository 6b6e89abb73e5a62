#pragma once
/// @file spine.hpp
/// @brief A measured, classified dendritic spine (everything in µm).

#include <string>

#include "spinescope/volume.hpp"

namespace spinescope {

enum class SpineType { kStubby, kMushroom, kThin, kFilopodium };

/// @brief "stubby", "mushroom", "thin", "filopodium".
const char* to_string(SpineType type);
/// @brief Parses a type name; returns false when it is not one of the four.
bool parse_spine_type(const std::string& text, SpineType* type);

struct Spine {
  int spine_id = 0;
  int dendrite_id = 0;
  PointUm head;        ///< head centre (the tip for a filopodium): the contract's x_um, y_um, z_um
  PointUm base;        ///< on the shaft surface
  PointUm tip;         ///< far end
  double head_diameter_um = 0.0;
  double neck_length_um = 0.0;
  double neck_width_um = 0.0;
  double length_um = 0.0;     ///< base to tip
  double volume_um3 = 0.0;
  SpineType type = SpineType::kStubby;
  double confidence = 0.0;    ///< 0..1
  bool detached = false;      ///< a head whose neck was too dim to segment
};

}  // namespace spinescope
