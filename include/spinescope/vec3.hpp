#pragma once
/// @file vec3.hpp
/// @brief A small 3-D vector in µm for geometry inside stages and tools (PointUm is the public point type).

#include <cmath>

#include "spinescope/volume.hpp"

namespace spinescope {

struct Vec3 {
  double x = 0, y = 0, z = 0;
  Vec3() = default;
  Vec3(double x_, double y_, double z_) : x(x_), y(y_), z(z_) {}
  explicit Vec3(const PointUm& p) : x(p.x_um), y(p.y_um), z(p.z_um) {}
  PointUm point() const { return PointUm{x, y, z}; }
  Vec3 operator+(const Vec3& o) const { return {x + o.x, y + o.y, z + o.z}; }
  Vec3 operator-(const Vec3& o) const { return {x - o.x, y - o.y, z - o.z}; }
  Vec3 operator*(double s) const { return {x * s, y * s, z * s}; }
  double dot(const Vec3& o) const { return x * o.x + y * o.y + z * o.z; }
  Vec3 cross(const Vec3& o) const { return {y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x}; }
  double norm() const { return std::sqrt(dot(*this)); }
  /// @brief This vector scaled to length 1 (zero stays zero).
  Vec3 unit() const {
    const double n = norm();
    return n > 0 ? *this * (1.0 / n) : Vec3{};
  }
};

}  // namespace spinescope
