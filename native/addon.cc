// Entry point of the streambus.node addon: registers each group of functions.
#include "common.h"

#include <cstring>

namespace streambus {

std::string ErrnoName(int err) {
  switch (err) {
#define SB_ERRNO(name) \
  case name:           \
    return #name;
    SB_ERRNO(EPERM) SB_ERRNO(ENOENT) SB_ERRNO(EINTR) SB_ERRNO(EIO) SB_ERRNO(ENXIO) SB_ERRNO(EBADF)
    SB_ERRNO(EAGAIN) SB_ERRNO(ENOMEM) SB_ERRNO(EACCES) SB_ERRNO(EFAULT) SB_ERRNO(EBUSY) SB_ERRNO(EEXIST)
    SB_ERRNO(EXDEV) SB_ERRNO(ENODEV) SB_ERRNO(ENOTDIR) SB_ERRNO(EISDIR) SB_ERRNO(EINVAL) SB_ERRNO(ENFILE)
    SB_ERRNO(EMFILE) SB_ERRNO(EFBIG) SB_ERRNO(ENOSPC) SB_ERRNO(ESPIPE) SB_ERRNO(EROFS) SB_ERRNO(EMLINK)
    SB_ERRNO(EPIPE) SB_ERRNO(ENAMETOOLONG) SB_ERRNO(ENOSYS) SB_ERRNO(ENOTEMPTY) SB_ERRNO(ELOOP)
    SB_ERRNO(EOVERFLOW) SB_ERRNO(EOPNOTSUPP) SB_ERRNO(ECONNREFUSED) SB_ERRNO(EDQUOT) SB_ERRNO(ESTALE)
    SB_ERRNO(ENOTSOCK) SB_ERRNO(EDESTADDRREQ) SB_ERRNO(EMSGSIZE) SB_ERRNO(EPROTOTYPE) SB_ERRNO(EADDRNOTAVAIL)
#undef SB_ERRNO
    default:
      return "E" + std::to_string(err);
  }
}

Napi::Error MakeIoError(Napi::Env env, int err, const std::string& syscall, const std::string& path) {
  std::string name = ErrnoName(err);
  Napi::Error e = Napi::Error::New(env, syscall + " " + path + ": " + name + " (" + std::strerror(err) + ")");
  e.Set("code", Napi::String::New(env, name));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("path", Napi::String::New(env, path));
  return e;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitSegment(env, exports);
  InitFile(env, exports);
  InitCrc32c(env, exports);
  InitSystem(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace streambus

static Napi::Object InitStreamBus(Napi::Env env, Napi::Object exports) { return streambus::Init(env, exports); }

NODE_API_MODULE(streambus, InitStreamBus)
