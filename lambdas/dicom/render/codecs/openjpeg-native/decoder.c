/*
 * decode(codestream, reduce, width, height, components): one JPEG 2000 codestream (ISO/IEC 15444-1
 * Annex A; PS3.5 A.4.4 frames are bare codestreams, a JP2 file is accepted too) decoded by the system's
 * OpenJPEG, `reduce` resolution levels below full size (B.5). The main header is read first and the
 * image refused unless its full size and component count are the caller's (Columns, Rows, Samples per
 * Pixel), so a crafted header cannot make it allocate more than the frame the data set describes.
 * Answers { pixels, width, height, components, precision, signed }: the samples pixel-interleaved,
 * one byte each up to 8 bits of precision, else 16-bit words (two's complement when signed), as the
 * WebAssembly build of the same library gives them. Any failure throws an Error.
 */
#include <node_api.h>
#include <openjpeg.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  const uint8_t *data;
  size_t size;
  size_t at;
} Source;

static OPJ_SIZE_T read_bytes(void *buffer, OPJ_SIZE_T count, void *user) {
  Source *s = user;
  if (s->at >= s->size) return (OPJ_SIZE_T)-1;
  size_t left = s->size - s->at;
  if (left > count) left = count;
  memcpy(buffer, s->data + s->at, left);
  s->at += left;
  return left;
}

static OPJ_OFF_T skip_bytes(OPJ_OFF_T count, void *user) {
  Source *s = user;
  if (count < 0) return -1;
  size_t left = s->size - s->at;
  if ((size_t)count > left) count = (OPJ_OFF_T)left;
  s->at += (size_t)count;
  return count;
}

static OPJ_BOOL seek_to(OPJ_OFF_T at, void *user) {
  Source *s = user;
  if (at < 0 || (size_t)at > s->size) return OPJ_FALSE;
  s->at = (size_t)at;
  return OPJ_TRUE;
}

static void ignore_message(const char *message, void *user) {
  (void)message;
  (void)user;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static void set_uint(napi_env env, napi_value object, const char *name, uint32_t value) {
  napi_value v;
  napi_create_uint32(env, value, &v);
  napi_set_named_property(env, object, name, v);
}

static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return fail(env, "decode needs 5 arguments");
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value arraybuffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &arraybuffer, &offset) != napi_ok || type != napi_uint8_array)
    return fail(env, "the codestream must be a Uint8Array");
  uint32_t reduce, width, height, components;
  if (napi_get_value_uint32(env, argv[1], &reduce) != napi_ok || napi_get_value_uint32(env, argv[2], &width) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &height) != napi_ok || napi_get_value_uint32(env, argv[4], &components) != napi_ok)
    return fail(env, "reduce, width, height and components must be numbers");
  if (length < 2) return fail(env, "the codestream is empty");

  const uint8_t *bytes = data;
  Source source = {bytes, length, 0};
  int j2k = bytes[0] == 0xff && bytes[1] == 0x4f; /* SOC: a bare codestream, else a JP2 file */
  opj_codec_t *codec = opj_create_decompress(j2k ? OPJ_CODEC_J2K : OPJ_CODEC_JP2);
  opj_set_info_handler(codec, ignore_message, NULL);
  opj_set_warning_handler(codec, ignore_message, NULL);
  opj_set_error_handler(codec, ignore_message, NULL);
  opj_dparameters_t parameters;
  opj_set_default_decoder_parameters(&parameters);
  parameters.cp_reduce = reduce;
  opj_stream_t *stream = opj_stream_create(1 << 16, OPJ_TRUE);
  opj_stream_set_user_data(stream, &source, NULL);
  opj_stream_set_user_data_length(stream, length);
  opj_stream_set_read_function(stream, read_bytes);
  opj_stream_set_skip_function(stream, skip_bytes);
  opj_stream_set_seek_function(stream, seek_to);

  opj_image_t *image = NULL;
  const char *error = NULL;
  if (!opj_setup_decoder(codec, &parameters) || !opj_read_header(stream, codec, &image)) {
    error = "the JPEG 2000 main header cannot be read";
  } else if (image->x1 - image->x0 != width || image->y1 - image->y0 != height || image->numcomps != components) {
    error = "the JPEG 2000 image is not of the frame's Columns, Rows and Samples per Pixel";
  } else {
    for (uint32_t c = 0; c < image->numcomps && !error; c++)
      if (image->comps[c].dx != 1 || image->comps[c].dy != 1 || image->comps[c].prec == 0 || image->comps[c].prec > 16 ||
          image->comps[c].prec != image->comps[0].prec)
        error = "the JPEG 2000 components are subsampled or of other precisions than 1 to 16 bits";
  }
  if (!error && !(opj_decode(codec, stream, image) && opj_end_decompress(codec, stream)))
    error = "the JPEG 2000 codestream cannot be decoded";
  opj_stream_destroy(stream);
  opj_destroy_codec(codec);
  if (!error)
    for (uint32_t c = 0; c < image->numcomps && !error; c++)
      if (image->comps[c].data == NULL || image->comps[c].w != image->comps[0].w || image->comps[c].h != image->comps[0].h)
        error = "the JPEG 2000 codestream decodes to incomplete components";
  if (error) {
    if (image) opj_image_destroy(image);
    return fail(env, error);
  }

  uint32_t w = image->comps[0].w, h = image->comps[0].h, nc = image->numcomps, precision = image->comps[0].prec;
  size_t count = (size_t)w * h, bytesPerSample = precision > 8 ? 2 : 1;
  void *out;
  napi_value pixels;
  if (napi_create_arraybuffer(env, count * nc * bytesPerSample, &out, &pixels) != napi_ok) {
    opj_image_destroy(image);
    return fail(env, "no memory for the decoded frame");
  }
  for (uint32_t c = 0; c < nc; c++) {
    const OPJ_INT32 *samples = image->comps[c].data;
    if (bytesPerSample == 2) {
      uint16_t *words = out;
      for (size_t i = 0; i < count; i++) words[i * nc + c] = (uint16_t)samples[i];
    } else {
      uint8_t *octets = out;
      for (size_t i = 0; i < count; i++) octets[i * nc + c] = (uint8_t)samples[i];
    }
  }
  int isSigned = image->comps[0].sgnd != 0;
  opj_image_destroy(image);

  napi_value result, flag;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "pixels", pixels);
  set_uint(env, result, "width", w);
  set_uint(env, result, "height", h);
  set_uint(env, result, "components", nc);
  set_uint(env, result, "precision", precision);
  napi_get_boolean(env, isSigned, &flag);
  napi_set_named_property(env, result, "signed", flag);
  return result;
}

/* Context-aware (NAPI_MODULE_INIT): loadable on the render worker threads as on the main thread. */
NAPI_MODULE_INIT() {
  napi_value function, version;
  napi_create_function(env, "decode", NAPI_AUTO_LENGTH, decode, NULL, &function);
  napi_set_named_property(env, exports, "decode", function);
  napi_create_string_utf8(env, opj_version(), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "openjpegVersion", version);
  return exports;
}
