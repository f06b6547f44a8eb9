// drop_empty_idat_chunks: removes zero-length IDAT chunks from a PNG file's bytes before the bundled stb_image
// (Debian's 2022-09 snapshot) reads them; on a first IDAT of length 0 it calls memcpy with a null buffer,
// undefined behaviour (found by fuzzing). An empty IDAT holds no image data, so the decoded image is unchanged.
#pragma once

#include <string>

namespace oqa::data {

// Returns the number of chunks removed; bytes that are not a PNG are left as they are.
int drop_empty_idat_chunks(std::string& bytes);

}  // namespace oqa::data
