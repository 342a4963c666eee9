// Reading: zero-copy read-only mappings of sealed segments, and pread through a buffered descriptor.
//
// mapReadonly hands JS an external ArrayBuffer over the mapping; the mapping is released (munmap)
// by the ArrayBuffer's finalizer, so views stay valid for as long as JS can reach them, even after the
// file is unlinked. The file must not shrink while mapped: a view of a page past the new end would
// fault (SIGBUS). The storage layer never truncates a mapped file in place.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

namespace streambus {
namespace {

struct ReadFile {
  int fd = -1;
  std::string path;
  ~ReadFile() {
    if (fd >= 0) ::close(fd);
  }
};

Napi::Value MapReadonly(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    Napi::TypeError::New(env, "mapReadonly(path)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    MakeIoError(env, errno, "open", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    MakeIoError(env, err, "fstat", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t length = static_cast<size_t>(st.st_size);
  if (length == 0) {
    ::close(fd);
    return Napi::ArrayBuffer::New(env, 0);
  }
  void* addr = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  int err = errno;
  ::close(fd);  // the mapping keeps the file open
  if (addr == MAP_FAILED) {
    MakeIoError(env, err, "mmap", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::ArrayBuffer::New(
      env, addr, length, [](Napi::Env, void* data, size_t* hint) {
        ::munmap(data, *hint);
        delete hint;
      },
      new size_t(length));
}

ReadFile* Unwrap(const Napi::Value& v) {
  if (!v.IsExternal()) {
    Napi::TypeError::New(v.Env(), "expected a file handle").ThrowAsJavaScriptException();
    return nullptr;
  }
  return v.As<Napi::External<ReadFile>>().Data();
}

class OpenFileWorker : public PromiseWorker {
 public:
  OpenFileWorker(Napi::Env env, std::string path) : PromiseWorker(env, path) {}
  void Execute() override {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Fail(errno, "open");
  }
  Napi::Value Resolve(Napi::Env env) override {
    auto* f = new ReadFile();
    f->fd = fd_;
    f->path = path_;
    fd_ = -1;
    return Napi::External<ReadFile>::New(env, f, [](Napi::Env, ReadFile* r) { delete r; });
  }
  ~OpenFileWorker() override {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

Napi::Value OpenFile(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) {
    Napi::TypeError::New(info.Env(), "openFile(path)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  auto* w = new OpenFileWorker(info.Env(), info[0].As<Napi::String>().Utf8Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// pread(handle, target, position) -> Promise<bytesRead>; fills target from position, short only at EOF.
class PreadWorker : public PromiseWorker {
 public:
  PreadWorker(Napi::Env env, Napi::Value handle, ReadFile* f, Napi::Value target, uint8_t* data, size_t length, uint64_t position)
      : PromiseWorker(env, f->path), f_(f), data_(data), length_(length), position_(position) {
    handle_ref_ = Napi::Persistent(handle.As<Napi::Object>());
    target_ref_ = Napi::Persistent(target.As<Napi::Object>());
  }
  void Execute() override {
    if (f_->fd < 0) return Fail(EBADF, "pread(closed)");
    while (done_ < length_) {
      ssize_t n = ::pread(f_->fd, data_ + done_, length_ - done_, static_cast<off_t>(position_ + done_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail(errno, "pread");
      }
      if (n == 0) break;
      done_ += static_cast<size_t>(n);
    }
  }
  Napi::Value Resolve(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(done_)); }

 private:
  ReadFile* f_;
  uint8_t* data_;
  size_t length_;
  uint64_t position_;
  size_t done_ = 0;
  Napi::ObjectReference handle_ref_;
  Napi::ObjectReference target_ref_;
};

Napi::Value Pread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReadFile* f = Unwrap(info[0]);
  if (f == nullptr) return env.Undefined();
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!info[1].IsTypedArray() || !info[2].IsNumber() ||
      napi_get_typedarray_info(env, info[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
    Napi::TypeError::New(env, "pread(handle, target: Uint8Array, position)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* w = new PreadWorker(env, info[0], f, info[1], static_cast<uint8_t*>(data), length,
                            static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value()));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

class CloseFileWorker : public PromiseWorker {
 public:
  CloseFileWorker(Napi::Env env, Napi::Value handle, ReadFile* f) : PromiseWorker(env, f->path), f_(f) {
    handle_ref_ = Napi::Persistent(handle.As<Napi::Object>());
  }
  void Execute() override {
    int fd = f_->fd;
    f_->fd = -1;
    if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) return Fail(errno, "close");
  }

 private:
  ReadFile* f_;
  Napi::ObjectReference handle_ref_;
};

Napi::Value CloseFile(const Napi::CallbackInfo& info) {
  ReadFile* f = Unwrap(info[0]);
  if (f == nullptr) return info.Env().Undefined();
  auto* w = new CloseFileWorker(info.Env(), info[0], f);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitFile(Napi::Env env, Napi::Object exports) {
  exports.Set("mapReadonly", Napi::Function::New(env, MapReadonly, "mapReadonly"));
  exports.Set("openFile", Napi::Function::New(env, OpenFile, "openFile"));
  exports.Set("pread", Napi::Function::New(env, Pread, "pread"));
  exports.Set("closeFile", Napi::Function::New(env, CloseFile, "closeFile"));
}

}  // namespace streambus
