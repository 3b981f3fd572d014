#include "core/world/canvas.h"

#include <algorithm>
#include <cmath>

namespace stamina::core {

Canvas::Canvas(Image* image, Pose pose)
    : image_(image), pose_(pose), unit_(image->width / kDesignSize) {}

Point Canvas::ToPixel(Point d) const {
  const double c = kDesignSize / 2;
  const double x = pose_.flip ? kDesignSize - d.x : d.x;
  return {((x - c) * pose_.scale + c + pose_.dx) * unit_,
          ((d.y - c) * pose_.scale + c + pose_.dy) * unit_};
}

Point Canvas::ToDesign(double px, double py) const {
  const double c = kDesignSize / 2;
  const double x = (px / unit_ - c - pose_.dx) / pose_.scale + c;
  const double y = (py / unit_ - c - pose_.dy) / pose_.scale + c;
  return {pose_.flip ? kDesignSize - x : x, y};
}

template <typename Inside>
void Canvas::Paint(double x0, double y0, double x1, double y1, Rgb color,
                   Inside inside) {
  const Point a = ToPixel({x0, y0});
  const Point b = ToPixel({x1, y1});
  const int px0 = std::max(0, static_cast<int>(std::floor(std::min(a.x, b.x))));
  const int py0 = std::max(0, static_cast<int>(std::floor(std::min(a.y, b.y))));
  const int px1 = std::min(image_->width - 1,
                           static_cast<int>(std::ceil(std::max(a.x, b.x))));
  const int py1 = std::min(image_->height - 1,
                           static_cast<int>(std::ceil(std::max(a.y, b.y))));
  for (int py = py0; py <= py1; ++py) {
    for (int px = px0; px <= px1; ++px) {
      if (inside(ToDesign(px + 0.5, py + 0.5))) image_->Set(px, py, color);
    }
  }
}

void Canvas::Fill(Rgb color) {
  for (int y = 0; y < image_->height; ++y) {
    for (int x = 0; x < image_->width; ++x) image_->Set(x, y, color);
  }
}

void Canvas::Rect(double x0, double y0, double x1, double y1, Rgb color) {
  Paint(x0, y0, x1, y1, color, [&](Point p) {
    return p.x >= x0 && p.x < x1 && p.y >= y0 && p.y < y1;
  });
}

void Canvas::Ellipse(double cx, double cy, double rx, double ry, Rgb color) {
  Paint(cx - rx, cy - ry, cx + rx, cy + ry, color, [&](Point p) {
    const double u = (p.x - cx) / rx;
    const double v = (p.y - cy) / ry;
    return u * u + v * v <= 1.0;
  });
}

void Canvas::Ring(double cx, double cy, double r_outer, double r_inner,
                  Rgb color) {
  Paint(cx - r_outer, cy - r_outer, cx + r_outer, cy + r_outer, color,
        [&](Point p) {
          const double d2 = (p.x - cx) * (p.x - cx) + (p.y - cy) * (p.y - cy);
          return d2 <= r_outer * r_outer && d2 >= r_inner * r_inner;
        });
}

void Canvas::Polygon(const std::vector<Point>& points, Rgb color) {
  if (points.size() < 3) return;
  double x0 = points[0].x, x1 = points[0].x, y0 = points[0].y, y1 = points[0].y;
  for (const Point& q : points) {
    x0 = std::min(x0, q.x);
    x1 = std::max(x1, q.x);
    y0 = std::min(y0, q.y);
    y1 = std::max(y1, q.y);
  }
  Paint(x0, y0, x1, y1, color, [&](Point p) {
    bool inside = false;
    for (size_t i = 0, j = points.size() - 1; i < points.size(); j = i++) {
      const Point& a = points[i];
      const Point& b = points[j];
      if ((a.y > p.y) != (b.y > p.y) &&
          p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) {
        inside = !inside;
      }
    }
    return inside;
  });
}

void Canvas::Bar(Point a, Point b, double width, Rgb color) {
  const double len = std::hypot(b.x - a.x, b.y - a.y);
  if (len == 0) return;
  const double nx = -(b.y - a.y) / len * width / 2;
  const double ny = (b.x - a.x) / len * width / 2;
  Polygon({{a.x + nx, a.y + ny},
           {b.x + nx, b.y + ny},
           {b.x - nx, b.y - ny},
           {a.x - nx, a.y - ny}},
          color);
}

}  // namespace stamina::core
