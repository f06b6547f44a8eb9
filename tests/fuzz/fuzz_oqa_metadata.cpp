// Fuzz harness: the input is an .oqa file's metadata JSON, a NUL byte, then its payload; the harness wraps
// them in a valid container (zlib, sizes, CRC-32) so that mutations reach the metadata and payload checks
// rather than stopping at the checksum.
#include <zlib.h>

#include <cstring>

#include "fuzz/fuzz_support.h"
#include "fuzz/oqa_model_check.h"

namespace {

std::string container(const std::string& text, const std::string& payload) {
  std::string packed(compressBound(text.size()), '\0');
  uLongf n = packed.size();
  compress2(reinterpret_cast<Bytef*>(packed.data()), &n, reinterpret_cast<const Bytef*>(text.data()),
            text.size(), 1);
  packed.resize(n);
  std::string out(oqa::deploy::kOqaMagic, sizeof(oqa::deploy::kOqaMagic));
  auto put = [&](auto v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
  put(oqa::deploy::kOqaVersion);
  put(uint32_t{0});
  put(uint64_t{text.size()});
  put(uint64_t{packed.size()});
  put(uint64_t{payload.size()});
  out += packed + payload;
  put(static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size()))));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string text = in.substr(0, nul), payload = nul == std::string::npos ? "" : in.substr(nul + 1);
  oqa::fuzz::expect_clear_errors(
      [&] { oqa::fuzz::run_decoded(oqa::deploy::decode_oqa(container(text, payload), "fuzz.oqa")); });
  return 0;
}
