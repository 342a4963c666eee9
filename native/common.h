// Shared helpers of the StreamBus native I/O addon: typed errors and a promise-returning worker.
// The addon stays thin (open, aligned pwrite, fdatasync, fallocate, mmap, CRC32C); all policy
// lives in TypeScript (src/io/real, src/storage).
#pragma once

#include <napi.h>

#include <cerrno>
#include <string>

namespace streambus {

// Alignment of O_DIRECT buffers, file offsets and lengths. 4096 covers every logical block size
// in common use (512 and 4096), so it is safe without asking the device.
constexpr size_t kDirectAlign = 4096;

// The errno's symbolic name (ENOSPC, EIO, ...), or "E<number>" for one not in the table.
std::string ErrnoName(int err);

// A JS Error carrying code (errno name), errno (number), syscall and path, the shape that
// src/io/real/native-disk.ts turns into an IoError.
Napi::Error MakeIoError(Napi::Env env, int err, const std::string& syscall, const std::string& path);

// An AsyncWorker that settles a promise. Execute() runs on the libuv pool; on failure it calls
// Fail(errno, syscall) and the promise rejects with MakeIoError; otherwise Resolve(env) gives the value.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env, std::string path)
      : Napi::AsyncWorker(env, "streambus"), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Fail(int err, const char* syscall) {
    err_ = err;
    syscall_ = syscall;
    SetError(syscall);
  }
  virtual Napi::Value Resolve(Napi::Env env) { return env.Undefined(); }
  void OnOK() override { deferred_.Resolve(Resolve(Env())); }
  void OnError(const Napi::Error&) override {
    deferred_.Reject(MakeIoError(Env(), err_, syscall_, path_).Value());
  }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  int err_ = 0;
  std::string syscall_;
};

void InitSegment(Napi::Env env, Napi::Object exports);
void InitFile(Napi::Env env, Napi::Object exports);
void InitCrc32c(Napi::Env env, Napi::Object exports);
void InitSystem(Napi::Env env, Napi::Object exports);

}  // namespace streambus
