// Host facts and service-manager signals: statfs, sd_notify (no libsystemd: the protocol is one
// datagram to $NOTIFY_SOCKET), an O_DIRECT probe for `streambus doctor`, and the open-file limit.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common.h"

namespace streambus {
namespace {

Napi::Value Statfs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    Napi::TypeError::New(env, "statfs(path)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) {
    MakeIoError(env, errno, "statvfs", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double unit = static_cast<double>(st.f_frsize ? st.f_frsize : st.f_bsize);
  Napi::Object out = Napi::Object::New(env);
  out.Set("blockSize", Napi::Number::New(env, unit));
  out.Set("totalBytes", Napi::Number::New(env, unit * static_cast<double>(st.f_blocks)));
  out.Set("freeBytes", Napi::Number::New(env, unit * static_cast<double>(st.f_bfree)));
  out.Set("availableBytes", Napi::Number::New(env, unit * static_cast<double>(st.f_bavail)));
  return out;
}

// sdNotify(state) -> true when sent, false when $NOTIFY_SOCKET is unset; throws on a send failure.
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    Napi::TypeError::New(env, "sdNotify(state)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (socket_path == nullptr || socket_path[0] == '\0') return Napi::Boolean::New(env, false);
  std::string target(socket_path);
  std::string state = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (target.size() >= sizeof(addr.sun_path) || (target[0] != '/' && target[0] != '@')) {
    MakeIoError(env, EINVAL, "sd_notify", target).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::memcpy(addr.sun_path, target.data(), target.size());
  if (target[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t length = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + target.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    MakeIoError(env, errno, "socket", target).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&addr), length);
  int err = errno;
  ::close(fd);
  if (n < 0) {
    MakeIoError(env, err, "sendto", target).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// probeDirect(dir) -> Promise<{supported, errno?}>: creates a scratch file with O_DIRECT, writes one
// aligned page, fdatasyncs and removes it.
class ProbeWorker : public PromiseWorker {
 public:
  ProbeWorker(Napi::Env env, std::string dir) : PromiseWorker(env, dir) {}
  void Execute() override {
    std::string file = path_ + "/.streambus-direct-probe-" + std::to_string(::getpid());
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0600);
    if (fd < 0) {
      if (errno == EINVAL) return Refuse(EINVAL, "open");
      return Fail(errno, "open");
    }
    void* page = nullptr;
    if (posix_memalign(&page, kDirectAlign, kDirectAlign) != 0) {
      ::close(fd);
      ::unlink(file.c_str());
      return Fail(ENOMEM, "posix_memalign");
    }
    std::memset(page, 0, kDirectAlign);
    ssize_t n = ::pwrite(fd, page, kDirectAlign, 0);
    int err = errno;
    std::free(page);
    if (n == static_cast<ssize_t>(kDirectAlign) && ::fdatasync(fd) != 0) {
      err = errno;
      n = -1;
    }
    ::close(fd);
    ::unlink(file.c_str());
    if (n != static_cast<ssize_t>(kDirectAlign)) return Refuse(n < 0 ? err : EIO, "pwrite");
    supported_ = true;
  }
  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("supported", Napi::Boolean::New(env, supported_));
    if (!supported_) {
      out.Set("errno", Napi::String::New(env, ErrnoName(refused_errno_)));
      out.Set("syscall", Napi::String::New(env, refused_syscall_));
    }
    return out;
  }

 private:
  void Refuse(int err, const char* syscall) {
    refused_errno_ = err;
    refused_syscall_ = syscall;
  }
  bool supported_ = false;
  int refused_errno_ = 0;
  std::string refused_syscall_;
};

Napi::Value ProbeDirect(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) {
    Napi::TypeError::New(info.Env(), "probeDirect(dir)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  auto* w = new ProbeWorker(info.Env(), info[0].As<Napi::String>().Utf8Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value OpenFileLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    MakeIoError(env, errno, "getrlimit", "RLIMIT_NOFILE").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto value = [&](rlim_t v) { return v == RLIM_INFINITY ? INFINITY : static_cast<double>(v); };
  Napi::Object out = Napi::Object::New(env);
  out.Set("soft", Napi::Number::New(env, value(rl.rlim_cur)));
  out.Set("hard", Napi::Number::New(env, value(rl.rlim_max)));
  return out;
}

}  // namespace

void InitSystem(Napi::Env env, Napi::Object exports) {
  exports.Set("statfs", Napi::Function::New(env, Statfs, "statfs"));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
  exports.Set("probeDirect", Napi::Function::New(env, ProbeDirect, "probeDirect"));
  exports.Set("openFileLimit", Napi::Function::New(env, OpenFileLimit, "openFileLimit"));
}

}  // namespace streambus
