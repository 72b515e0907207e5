// The addon of decoder.c as build.mjs left it, or null when it was not built (no OpenJPEG headers or
// no C toolchain at install): the caller then decodes with OpenJPEG's WebAssembly build.
'use strict';
let addon = null;
try {
  addon = require('./build/Release/openjpeg_decoder.node');
} catch {
  addon = null;
}
module.exports = addon;
