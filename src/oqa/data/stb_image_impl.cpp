// The one translation unit that compiles stb_image's implementation (PNG, JPEG and BMP decoding only).
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
// A crafted header cannot make a decode allocate more than 16384 x 16384 pixels.
#define STBI_MAX_DIMENSIONS (1 << 14)
#include <stb/stb_image.h>
