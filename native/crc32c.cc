// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka record batches v2.
//
// With SSE4.2 the crc32 instruction does 8 bytes per step, but each step waits for the previous one
// (latency 3 cycles, throughput 1), so large inputs run three independent streams over adjacent
// blocks and merge them: the CRC register update is linear over GF(2), so
//   reg(A || B) = reg(A) * x^(8|B|) mod P  xor  reg_from_zero(B).
// Without SSE4.2 a slice-by-8 table version runs. crc32c(data, seed, start, end) continues from
// `seed` (the finished CRC of preceding bytes, 0 to begin), like src/util/crc32c.ts.
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "common.h"

namespace streambus {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;
uint32_t g_table[8][256];

void BuildTables() {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    g_table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = g_table[0][n];
    for (int t = 1; t < 8; t++) {
      c = g_table[0][c & 0xff] ^ (c >> 8);
      g_table[t][n] = c;
    }
  }
}

// Raw register update (no pre/post inversion), table version.
uint32_t UpdateSoftware(uint32_t reg, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= reg;
    reg = g_table[7][lo & 0xff] ^ g_table[6][(lo >> 8) & 0xff] ^ g_table[5][(lo >> 16) & 0xff] ^ g_table[4][lo >> 24] ^
          g_table[3][hi & 0xff] ^ g_table[2][(hi >> 8) & 0xff] ^ g_table[1][(hi >> 16) & 0xff] ^ g_table[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) reg = g_table[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
  return reg;
}

// Product of two polynomials modulo P, in the reflected bit order (bit 31 is x^0).
uint32_t MulModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (int i = 0; i < 32; i++) {
    if (a & (0x80000000u >> i)) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return product;
}

// x^(8 * bytes) mod P, by square-and-multiply.
uint32_t PowerForBytes(uint64_t bytes) {
  uint32_t result = 0x80000000u;  // 1
  uint32_t base = 0x00800000u;    // x^8
  while (bytes > 0) {
    if (bytes & 1) result = MulModP(result, base);
    base = MulModP(base, base);
    bytes >>= 1;
  }
  return result;
}

constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;
uint32_t g_shift_long;   // x^(8 * kLongBlock) mod P
uint32_t g_shift_short;  // x^(8 * kShortBlock) mod P
bool g_hardware = false;

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t UpdateHardware(uint32_t reg, const uint8_t* p, size_t n) {
  uint64_t r0 = reg;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    r0 = _mm_crc32_u8(static_cast<uint32_t>(r0), *p++);
    n--;
  }
  // Three streams over adjacent blocks, merged by shifting the earlier registers past the later blocks.
  for (size_t block : {kLongBlock, kShortBlock}) {
    uint32_t shift = block == kLongBlock ? g_shift_long : g_shift_short;
    while (n >= 3 * block) {
      uint64_t r1 = 0;
      uint64_t r2 = 0;
      const uint8_t* end = p + block;
      do {
        uint64_t a;
        uint64_t b;
        uint64_t c;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + block, 8);
        std::memcpy(&c, p + 2 * block, 8);
        r0 = _mm_crc32_u64(r0, a);
        r1 = _mm_crc32_u64(r1, b);
        r2 = _mm_crc32_u64(r2, c);
        p += 8;
      } while (p < end);
      uint32_t merged = MulModP(shift, static_cast<uint32_t>(r0)) ^ static_cast<uint32_t>(r1);
      r0 = MulModP(shift, merged) ^ static_cast<uint32_t>(r2);
      p += 2 * block;
      n -= 3 * block;
    }
  }
  while (n >= 8) {
    uint64_t a;
    std::memcpy(&a, p, 8);
    r0 = _mm_crc32_u64(r0, a);
    p += 8;
    n -= 8;
  }
  while (n-- > 0) r0 = _mm_crc32_u8(static_cast<uint32_t>(r0), *p++);
  return static_cast<uint32_t>(r0);
}
#endif

uint32_t Update(uint32_t reg, const uint8_t* p, size_t n) {
#if defined(__x86_64__)
  if (g_hardware) return UpdateHardware(reg, p, n);
#endif
  return UpdateSoftware(reg, p, n);
}

Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!info[0].IsTypedArray() || napi_get_typedarray_info(env, info[0], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    Napi::TypeError::New(env, "crc32c(data: Uint8Array, seed?, start?, end?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t seed = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  size_t start = info.Length() > 2 && info[2].IsNumber() ? static_cast<size_t>(info[2].As<Napi::Number>().Int64Value()) : 0;
  size_t end = info.Length() > 3 && info[3].IsNumber() ? static_cast<size_t>(info[3].As<Napi::Number>().Int64Value()) : length;
  if (start > end || end > length) {
    Napi::RangeError::New(env, "crc32c: range outside the buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t reg = Update(~seed, static_cast<const uint8_t*>(data) + start, end - start);
  return Napi::Number::New(env, static_cast<double>(~reg));
}

}  // namespace

void InitCrc32c(Napi::Env env, Napi::Object exports) {
  BuildTables();
  g_shift_long = PowerForBytes(kLongBlock);
  g_shift_short = PowerForBytes(kShortBlock);
#if defined(__x86_64__)
  __builtin_cpu_init();
  g_hardware = __builtin_cpu_supports("sse4.2");
#endif
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("crc32cHardware", Napi::Boolean::New(env, g_hardware));
}

}  // namespace streambus
