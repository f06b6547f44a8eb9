// stb_image_write's implementation for the tests that write image files. Its JPEG encoder left-shifts
// negative ints (UB that UBSan reports in a sanitized build), so this file is built without the shift check
// (tests/CMakeLists.txt): the encoder only makes test inputs, and oqa never links it.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
