// File: core/world/canvas.h
//
// Owns the rasteriser the world renderer draws with: filled primitives in a
// 32 x 32 "design space" (x right, y down, (16, 16) the centre), mapped onto
// an Image of any size through a Pose (shift, scale, mirror). A pixel is
// painted when its centre, mapped back into design space, is inside the
// primitive: no anti-aliasing, so renders are exact and deterministic and
// colours stay pure (an oracle can read attributes off single pixels).
// Not thread-safe: one Canvas per image being drawn.
#ifndef STAMINA_CORE_WORLD_CANVAS_H_
#define STAMINA_CORE_WORLD_CANVAS_H_

#include <vector>

#include "core/image.h"

namespace stamina::core {

// The side of the design space every scene is drawn in.
inline constexpr double kDesignSize = 32.0;

struct Point {
  double x = 0;
  double y = 0;
};

// Where the design space lands in the image: mirrored about x = 16 first
// (flip), then scaled about the centre, then shifted (in design units).
struct Pose {
  double dx = 0;
  double dy = 0;
  double scale = 1.0;
  bool flip = false;
};

class Canvas {
 public:
  // `image` must outlive the canvas; its size sets the design-unit size
  // (width / 32 pixels per unit; square images are expected).
  Canvas(Image* image, Pose pose);

  // Paints every pixel, ignoring the pose.
  void Fill(Rgb color);
  // Axis-aligned rectangle [x0, x1) x [y0, y1).
  void Rect(double x0, double y0, double x1, double y1, Rgb color);
  void Ellipse(double cx, double cy, double rx, double ry, Rgb color);
  // Annulus between radii r_inner and r_outer.
  void Ring(double cx, double cy, double r_outer, double r_inner, Rgb color);
  // Any simple polygon (even-odd rule).
  void Polygon(const std::vector<Point>& points, Rgb color);
  // A segment from a to b, `width` wide, with square ends.
  void Bar(Point a, Point b, double width, Rgb color);

  // Maps a design-space point to image pixel coordinates.
  Point ToPixel(Point design) const;

 private:
  // Calls inside(design point) for each pixel whose centre maps into the
  // design-space box [x0, x1] x [y0, y1], and paints it when true.
  template <typename Inside>
  void Paint(double x0, double y0, double x1, double y1, Rgb color,
             Inside inside);
  Point ToDesign(double px, double py) const;

  Image* image_;
  Pose pose_;
  double unit_;  // pixels per design unit
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_WORLD_CANVAS_H_
