# The addon of decoder.c against the system's OpenJPEG, found with pkg-config (build.mjs runs node-gyp
# only when pkg-config knows libopenjp2).
{
  "targets": [
    {
      "target_name": "openjpeg_decoder",
      "sources": ["decoder.c"],
      "cflags": ["<!@(pkg-config --cflags libopenjp2)", "-O2"],
      "xcode_settings": { "OTHER_CFLAGS": ["<!@(pkg-config --cflags libopenjp2)", "-O2"] },
      "libraries": ["<!@(pkg-config --libs libopenjp2)"]
    }
  ]
}
