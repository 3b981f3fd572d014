#include "images/jpeg_codec.h"

// jpeglib.h needs FILE and size_t declared first.
#include <cstddef>
#include <cstdio>

#include <jpeglib.h>
#include <jerror.h>

#include <csetjmp>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "images/exif_orientation.h"

// libjpeg reports errors through error_exit, which must not return: ours
// records the message and longjmps. The functions that call setjmp keep only
// trivially destructible locals, so the jump never skips a destructor; the
// pixel vector lives in the caller's frame and is reached through a pointer.

namespace stamina::images {
namespace {

// libjpeg-turbo's TurboJPEG API uses the same bound against scan-bombs:
// progressive files with thousands of tiny scans that cost minutes of CPU.
constexpr int kMaxScans = 500;

// `manager` must stay the first member: libjpeg hands back cinfo->err.
struct JpegContext {
  jpeg_error_mgr manager;
  jpeg_progress_mgr progress;
  std::jmp_buf jump;
  char error[JMSG_LENGTH_MAX];
  bool truncated;
  int orientation;  // EXIF; libjpeg drops the saved markers at the end
};

JpegContext* ContextOf(j_common_ptr cinfo) {
  return reinterpret_cast<JpegContext*>(cinfo->err);
}

void OnJpegError(j_common_ptr cinfo) {
  JpegContext* context = ContextOf(cinfo);
  (*cinfo->err->format_message)(cinfo, context->error);
  std::longjmp(context->jump, 1);
}

// Warnings (level -1) and traces go nowhere; truncation is remembered.
void OnJpegMessage(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    ContextOf(cinfo)->truncated = true;
  }
}

void OutputNothing(j_common_ptr) {}

void LimitScans(j_common_ptr cinfo) {
  if (cinfo->is_decompressor &&
      reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number >
          kMaxScans) {
    JpegContext* context = ContextOf(cinfo);
    std::snprintf(context->error, sizeof(context->error),
                  "more than %d progressive scans", kMaxScans);
    std::longjmp(context->jump, 1);
  }
}

void InstallHandlers(jpeg_decompress_struct* cinfo, JpegContext* context) {
  std::memset(cinfo, 0, sizeof(*cinfo));
  std::memset(context, 0, sizeof(*context));
  cinfo->err = jpeg_std_error(&context->manager);
  context->manager.error_exit = OnJpegError;
  context->manager.emit_message = OnJpegMessage;
  context->manager.output_message = OutputNothing;
  context->progress.progress_monitor = LimitScans;
  context->orientation = 1;
  std::snprintf(context->error, sizeof(context->error), "unknown error");
}

int OrientationFromMarkers(j_decompress_ptr cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != nullptr;
       m = m->next) {
    if (m->marker == JPEG_APP0 + 1) {
      const int orientation = ParseExifOrientation(m->data, m->data_length);
      if (orientation != 1) return orientation;
    }
  }
  return 1;
}

// Reads the markers up to the first scan. With `pixels`, also decodes: RGB,
// or CMYK as stored for CMYK/YCCK files (4 bytes per pixel).
bool RunOrJump(jpeg_decompress_struct* cinfo, JpegContext* context,
               absl::string_view bytes, std::vector<uint8_t>* pixels) {
  if (setjmp(context->jump)) return false;
  jpeg_create_decompress(cinfo);
  cinfo->progress = &context->progress;
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               bytes.size());
  jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(cinfo, /*require_image=*/TRUE);
  if (pixels == nullptr) return true;
  context->orientation = OrientationFromMarkers(cinfo);

  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK ||
                    cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(cinfo);
  const size_t components = cmyk ? 4 : 3;
  if (static_cast<size_t>(cinfo->output_components) != components) {
    ERREXIT(cinfo, JERR_CONVERSION_NOTIMPL);
  }
  const size_t stride = components * cinfo->output_width;
  pixels->resize(stride * cinfo->output_height);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = pixels->data() + stride * cinfo->output_scanline;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      ERREXIT(cinfo, JERR_INPUT_EOF);
    }
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

// In place, 4 bytes per pixel to 3.
void CmykToRgb(bool adobe_inverted, size_t count, std::vector<uint8_t>* p) {
  uint8_t* d = p->data();
  for (size_t i = 0; i < count; ++i) {
    uint32_t k = d[4 * i + 3];
    if (!adobe_inverted) k = 255 - k;
    for (size_t c = 0; c < 3; ++c) {
      uint32_t ink = d[4 * i + c];
      if (!adobe_inverted) ink = 255 - ink;
      d[3 * i + c] = static_cast<uint8_t>((ink * k + 127) / 255);
    }
  }
  p->resize(3 * count);
}

}  // namespace

absl::StatusOr<ImageHeader> ReadJpegHeader(absl::string_view bytes) {
  jpeg_decompress_struct cinfo;
  JpegContext context;
  InstallHandlers(&cinfo, &context);
  const bool ok = RunOrJump(&cinfo, &context, bytes, nullptr);
  const ImageHeader header{ImageFormat::kJpeg,
                           static_cast<int>(cinfo.image_width),
                           static_cast<int>(cinfo.image_height)};
  jpeg_destroy_decompress(&cinfo);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("JPEG: bad header: ", context.error));
  }
  return header;
}

absl::StatusOr<DecodedImage> DecodeJpeg(absl::string_view bytes,
                                        const ImageHeader& header) {
  jpeg_decompress_struct cinfo;
  JpegContext context;
  InstallHandlers(&cinfo, &context);
  DecodedImage image{ImageFormat::kJpeg, header.width, header.height, {}};
  bool ok = RunOrJump(&cinfo, &context, bytes, &image.rgb);
  if (ok && (static_cast<int>(cinfo.output_width) != header.width ||
             static_cast<int>(cinfo.output_height) != header.height)) {
    ok = false;
    std::snprintf(context.error, sizeof(context.error),
                  "frame dimensions differ from the header read earlier");
  }
  const bool cmyk = cinfo.out_color_space == JCS_CMYK;
  const bool adobe_inverted = cinfo.saw_Adobe_marker != 0;
  jpeg_destroy_decompress(&cinfo);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("JPEG: cannot decode: ", context.error));
  }
  if (context.truncated) {
    return absl::InvalidArgumentError(
        "JPEG: cannot decode: premature end of data (truncated file)");
  }
  if (cmyk) {
    CmykToRgb(adobe_inverted, size_t(header.width) * header.height,
              &image.rgb);
  }
  ApplyExifOrientation(context.orientation, &image);
  return image;
}

}  // namespace stamina::images
