// Append-only segment files: open (optionally O_DIRECT, preallocated with fallocate), append,
// fdatasync, truncate, close. Every blocking call runs on the libuv pool, except appendNow (small
// records on buffered files, written on the calling thread).
//
// O_DIRECT needs aligned buffers, offsets and lengths, while batches have any length. The handle
// therefore keeps the partial last page (`tail`, the bytes [size - size % 4096, size)) in memory and
// every append writes whole pages from an aligned staging buffer: the tail page again, then the new
// bytes, zero-padded to the page end. The file thus may hold zero padding past the logical size; the
// storage layer tracks the logical size and truncates to it when a segment is sealed. Rewriting the
// tail page puts the same old bytes back, so a torn rewrite can never damage data already synced.
//
// Ownership and ordering: the caller (src/storage/segment-appender.ts) keeps at most one append or
// truncate in flight per handle; a sync may overlap an append and covers the appends that had
// completed before it started. The buffers passed to append are referenced until it settles.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common.h"

namespace streambus {
namespace {

constexpr size_t kStageMin = 256 * 1024;
constexpr size_t kStageMax = 8 * 1024 * 1024;
// First reservation of a new segment file; later ones double up to the configured step.
constexpr uint64_t kInitialReserve = 1024 * 1024;

struct Segment {
  int fd = -1;
  std::string path;
  bool direct = false;
  uint64_t size = 0;          // logical end: bytes [0, size) are appended data
  uint64_t allocated = 0;     // file size: reserved (fallocate) or written, >= size
  uint64_t step = 0;          // next preallocation step; 0 once the filesystem refused fallocate
  uint64_t step_max = 0;      // the configured preallocation: steps double up to it
  uint8_t* tail = nullptr;    // kDirectAlign bytes; the first size % kDirectAlign are valid
  uint8_t* stage = nullptr;   // aligned staging buffer for O_DIRECT writes
  size_t stage_capacity = 0;

  ~Segment() {
    if (fd >= 0) ::close(fd);
    std::free(tail);
    std::free(stage);
  }
};

uint8_t* AlignedAlloc(size_t bytes) {
  void* p = nullptr;
  if (posix_memalign(&p, kDirectAlign, bytes) != 0) return nullptr;
  return static_cast<uint8_t*>(p);
}

// Grows the staging buffer to hold `wanted` bytes (rounded to pages, capped at kStageMax).
bool EnsureStage(Segment* s, size_t wanted) {
  size_t cap = std::max(kStageMin, std::min(kStageMax, (wanted + kDirectAlign - 1) / kDirectAlign * kDirectAlign));
  if (s->stage_capacity >= cap) return true;
  uint8_t* next = AlignedAlloc(cap);
  if (next == nullptr) return false;
  std::free(s->stage);
  s->stage = next;
  s->stage_capacity = cap;
  return true;
}

int PwriteAll(int fd, const uint8_t* data, size_t length, uint64_t position) {
  while (length > 0) {
    ssize_t n = ::pwrite(fd, data, length, static_cast<off_t>(position));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data += n;
    length -= static_cast<size_t>(n);
    position += static_cast<uint64_t>(n);
  }
  return 0;
}

// Reads the partial last page of the logical size into `tail` (O_DIRECT: an aligned whole-page read).
int LoadTail(Segment* s) {
  size_t tail_length = s->size % kDirectAlign;
  if (!s->direct || tail_length == 0) return 0;
  if (!EnsureStage(s, kDirectAlign)) return ENOMEM;
  uint64_t page = s->size - tail_length;
  ssize_t n;
  do {
    n = ::pread(s->fd, s->stage, kDirectAlign, static_cast<off_t>(page));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  if (static_cast<size_t>(n) < tail_length) return EIO;
  std::memcpy(s->tail, s->stage, tail_length);
  return 0;
}

Segment* Unwrap(const Napi::Value& v) {
  if (!v.IsExternal()) {
    Napi::TypeError::New(v.Env(), "expected a segment handle").ThrowAsJavaScriptException();
    return nullptr;
  }
  return v.As<Napi::External<Segment>>().Data();
}

class OpenWorker : public PromiseWorker {
 public:
  OpenWorker(Napi::Env env, std::string path, bool direct, uint64_t preallocate, uint64_t size)
      : PromiseWorker(env, path), direct_(direct), preallocate_(preallocate), size_(size) {}

  void Execute() override {
    seg_ = new Segment();
    seg_->path = path_;
    seg_->tail = AlignedAlloc(kDirectAlign);
    if (seg_->tail == nullptr) return Fail(ENOMEM, "posix_memalign");
    int flags = O_RDWR | O_CREAT | O_CLOEXEC;
    int fd = -1;
    if (direct_) {
      fd = ::open(path_.c_str(), flags | O_DIRECT, 0644);
      // Filesystems without O_DIRECT answer EINVAL: carry on buffered and say so.
      if (fd < 0 && errno == EINVAL) direct_refused_ = true;
      else if (fd < 0) return Fail(errno, "open");
      else seg_->direct = true;
    }
    if (fd < 0) fd = ::open(path_.c_str(), flags, 0644);
    if (fd < 0) return Fail(errno, "open");
    seg_->fd = fd;
    struct stat st;
    if (::fstat(fd, &st) != 0) return Fail(errno, "fstat");
    file_size_ = static_cast<uint64_t>(st.st_size);
    if (size_ > file_size_) return Fail(EINVAL, "open(size beyond end of file)");
    seg_->size = size_;
    seg_->allocated = file_size_;
    // A new segment reserves little and the reservation doubles as it fills, up to `preallocate`
    // per step: thousands of idle partitions do not each hold a full step of disk.
    seg_->step_max = preallocate_;
    seg_->step = std::min<uint64_t>(preallocate_, kInitialReserve);
    if (file_size_ == 0 && seg_->step > 0) {
      // Preallocation is an optimisation: without space or support, appends still work (and report
      // ENOSPC themselves), so a failure here only drops whatever was partly reserved.
      if (::fallocate(fd, 0, 0, static_cast<off_t>(seg_->step)) == 0) {
        file_size_ = seg_->step;
        seg_->allocated = file_size_;
        preallocated_ = true;
      } else {
        if (errno == EOPNOTSUPP) seg_->step = 0;
        if (::ftruncate(fd, 0) != 0) return Fail(errno, "ftruncate");
      }
    }
    int err = LoadTail(seg_);
    if (err != 0) return Fail(err, "pread");
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    Segment* seg = seg_;
    seg_ = nullptr;
    result.Set("handle", Napi::External<Segment>::New(env, seg, [](Napi::Env, Segment* s) { delete s; }));
    result.Set("direct", Napi::Boolean::New(env, seg->direct));
    result.Set("directRefused", Napi::Boolean::New(env, direct_refused_));
    result.Set("preallocated", Napi::Boolean::New(env, preallocated_));
    result.Set("fileSize", Napi::Number::New(env, static_cast<double>(file_size_)));
    return result;
  }

  ~OpenWorker() override { delete seg_; }

 private:
  bool direct_;
  uint64_t preallocate_;
  uint64_t size_;
  Segment* seg_ = nullptr;
  bool direct_refused_ = false;
  bool preallocated_ = false;
  uint64_t file_size_ = 0;
};

Napi::Value OpenSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsObject()) {
    Napi::TypeError::New(env, "openSegment(path, {direct, preallocate, size})").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object opts = info[1].As<Napi::Object>();
  bool direct = opts.Get("direct").ToBoolean();
  Napi::Value pre = opts.Get("preallocate");
  Napi::Value size = opts.Get("size");
  uint64_t preallocate = pre.IsNumber() ? static_cast<uint64_t>(pre.As<Napi::Number>().Int64Value()) : 0;
  uint64_t logical = size.IsNumber() ? static_cast<uint64_t>(size.As<Napi::Number>().Int64Value()) : 0;
  auto* w = new OpenWorker(env, info[0].As<Napi::String>().Utf8Value(), direct, preallocate, logical);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

struct Part {
  const uint8_t* data;
  size_t length;
};

// One append of `parts_` at the segment's logical end, on whichever thread calls Run(): the libuv
// pool for append(), the JavaScript thread for appendNow().
class SegmentWrite {
 public:
  SegmentWrite(Segment* seg, std::vector<Part> parts, size_t total) : seg_(seg), parts_(std::move(parts)), total_(total) {}

  // 0, or the errno of the failed call (whose name syscall() gives).
  int Run() {
    if (seg_->fd < 0) {
      syscall_ = "append(closed)";
      return EBADF;
    }
    start_ = seg_->size;
    Reserve(start_ + total_);
    int err = seg_->direct ? WriteDirect() : WriteBuffered();
    if (err != 0) {
      // Best effort: drop bytes a partial write left past the logical end so they cannot be
      // mistaken for data later. The logical size is unchanged either way.
      if (!seg_->direct && ::ftruncate(seg_->fd, static_cast<off_t>(seg_->size)) == 0) seg_->allocated = seg_->size;
      syscall_ = "pwrite";
      return err;
    }
    seg_->size = start_ + total_;
    uint64_t written_end = seg_->direct ? (seg_->size + kDirectAlign - 1) / kDirectAlign * kDirectAlign : seg_->size;
    if (written_end > seg_->allocated) seg_->allocated = written_end;
    return 0;
  }

  uint64_t start() const { return start_; }
  const char* syscall() const { return syscall_; }

 private:
  // Grows the reserved area in whole steps ahead of the writes, so that fdatasync after an append
  // finds no file-size change to journal (only once per step). Best effort, like preallocation.
  void Reserve(uint64_t end) {
    if (seg_->step == 0 || end <= seg_->allocated) return;
    end = (end + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
    uint64_t target = seg_->allocated + seg_->step;
    while (target < end) target += seg_->step;
    if (::fallocate(seg_->fd, 0, static_cast<off_t>(seg_->allocated), static_cast<off_t>(target - seg_->allocated)) == 0) {
      seg_->allocated = target;
      seg_->step = std::min(seg_->step * 2, seg_->step_max);
    } else if (errno == EOPNOTSUPP) {
      seg_->step = 0;
    }
  }

  int WriteBuffered() {
    uint64_t position = start_;
    size_t i = 0;
    std::vector<iovec> iov;
    iov.reserve(std::min<size_t>(parts_.size(), IOV_MAX));
    while (i < parts_.size()) {
      iov.clear();
      size_t batch_bytes = 0;
      for (size_t j = i; j < parts_.size() && iov.size() < IOV_MAX; j++) {
        iov.push_back({const_cast<uint8_t*>(parts_[j].data), parts_[j].length});
        batch_bytes += parts_[j].length;
      }
      size_t done = 0;
      size_t k = 0;
      while (done < batch_bytes) {
        ssize_t n = ::pwritev(seg_->fd, iov.data() + k, static_cast<int>(iov.size() - k), static_cast<off_t>(position));
        if (n < 0) {
          if (errno == EINTR) continue;
          return errno;
        }
        if (n == 0) return EIO;
        done += static_cast<size_t>(n);
        position += static_cast<uint64_t>(n);
        // Skip the iovecs written completely and trim a partly written one.
        size_t left = static_cast<size_t>(n);
        while (k < iov.size() && left >= iov[k].iov_len) left -= iov[k++].iov_len;
        if (left > 0) {
          iov[k].iov_base = static_cast<uint8_t*>(iov[k].iov_base) + left;
          iov[k].iov_len -= left;
        }
      }
      i += iov.size();
    }
    return 0;
  }

  int WriteDirect() {
    size_t tail_length = static_cast<size_t>(seg_->size % kDirectAlign);
    if (!EnsureStage(seg_, tail_length + total_)) return ENOMEM;
    uint8_t* stage = seg_->stage;
    size_t capacity = seg_->stage_capacity;
    uint64_t position = seg_->size - tail_length;  // page-aligned file offset of stage[0]
    std::memcpy(stage, seg_->tail, tail_length);
    size_t fill = tail_length;
    for (const Part& part : parts_) {
      const uint8_t* src = part.data;
      size_t left = part.length;
      while (left > 0) {
        size_t n = std::min(left, capacity - fill);
        std::memcpy(stage + fill, src, n);
        fill += n;
        src += n;
        left -= n;
        if (fill == capacity) {
          int err = PwriteAll(seg_->fd, stage, capacity, position);
          if (err != 0) return err;
          position += capacity;
          fill = 0;
        }
      }
    }
    size_t new_tail = fill % kDirectAlign;
    if (fill > 0) {
      size_t padded = (fill + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
      std::memset(stage + fill, 0, padded - fill);
      int err = PwriteAll(seg_->fd, stage, padded, position);
      if (err != 0) return err;
    }
    // The new partial page is the end of what was just staged; keep it for the next append.
    std::memcpy(seg_->tail, stage + (fill - new_tail), new_tail);
    return 0;
  }

  Segment* seg_;
  std::vector<Part> parts_;
  size_t total_ = 0;
  uint64_t start_ = 0;
  const char* syscall_ = "pwrite";
};

// The buffers of an append call; false when one is not a Uint8Array.
bool ReadParts(Napi::Env env, Napi::Array buffers, std::vector<Part>* parts, size_t* total) {
  uint32_t n = buffers.Length();
  parts->reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = buffers.Get(i);
    napi_typedarray_type type;
    size_t len = 0;
    void* data = nullptr;
    if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr) != napi_ok ||
        (type != napi_uint8_array && type != napi_int8_array && type != napi_uint8_clamped_array)) {
      return false;
    }
    if (len > 0) parts->push_back({static_cast<const uint8_t*>(data), len});
    *total += len;
  }
  return true;
}

class AppendWorker : public PromiseWorker {
 public:
  AppendWorker(Napi::Env env, Napi::Value handle, Segment* seg, Napi::Array buffers, std::vector<Part> parts, size_t total)
      : PromiseWorker(env, seg->path), write_(seg, std::move(parts), total) {
    handle_ref_ = Napi::Persistent(handle.As<Napi::Object>());
    buffers_ref_ = Napi::Persistent(buffers.As<Napi::Object>());
  }

  void Execute() override {
    int err = write_.Run();
    if (err != 0) Fail(err, write_.syscall());
  }

  Napi::Value Resolve(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(write_.start())); }

 private:
  SegmentWrite write_;
  Napi::ObjectReference handle_ref_;
  Napi::ObjectReference buffers_ref_;
};

// The segment and buffers of `name(handle, buffers[])`; null (a JavaScript exception pending) when
// either argument is wrong.
Segment* AppendArguments(const Napi::CallbackInfo& info, const char* name, std::vector<Part>* parts, size_t* total) {
  Segment* seg = Unwrap(info[0]);
  if (seg == nullptr) return nullptr;
  if (!info[1].IsArray() || !ReadParts(info.Env(), info[1].As<Napi::Array>(), parts, total)) {
    Napi::TypeError::New(info.Env(), std::string(name) + "(handle, buffers[]): every buffer must be a Uint8Array").ThrowAsJavaScriptException();
    return nullptr;
  }
  return seg;
}

Napi::Value Append(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<Part> parts;
  size_t total = 0;
  Segment* seg = AppendArguments(info, "append", &parts, &total);
  if (seg == nullptr) return env.Undefined();
  auto* w = new AppendWorker(env, info[0], seg, info[1].As<Napi::Array>(), std::move(parts), total);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// appendNow(handle, buffers[]): the same write on the calling (JavaScript) thread, for small records
// whose round trip through the pool costs more than the write (a pool thread and then the event loop
// each waiting for a CPU on a busy machine). Returns the position written at; throws the I/O error.
// Buffered files only: an O_DIRECT write may wait for the device.
Napi::Value AppendNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<Part> parts;
  size_t total = 0;
  Segment* seg = AppendArguments(info, "appendNow", &parts, &total);
  if (seg == nullptr) return env.Undefined();
  if (seg->direct) {
    Napi::TypeError::New(env, "appendNow: not for O_DIRECT files").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  SegmentWrite write(seg, std::move(parts), total);
  int err = write.Run();
  if (err != 0) {
    MakeIoError(env, err, write.syscall(), seg->path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(write.start()));
}

class SyncWorker : public PromiseWorker {
 public:
  SyncWorker(Napi::Env env, Napi::Value handle, Segment* seg, bool full)
      : PromiseWorker(env, seg->path), seg_(seg), full_(full) {
    handle_ref_ = Napi::Persistent(handle.As<Napi::Object>());
  }
  void Execute() override {
    if (seg_->fd < 0) return Fail(EBADF, "fdatasync(closed)");
    int r = full_ ? ::fsync(seg_->fd) : ::fdatasync(seg_->fd);
    if (r != 0) return Fail(errno, full_ ? "fsync" : "fdatasync");
  }

 private:
  Segment* seg_;
  bool full_;
  Napi::ObjectReference handle_ref_;
};

Napi::Value Sync(const Napi::CallbackInfo& info) {
  Segment* seg = Unwrap(info[0]);
  if (seg == nullptr) return info.Env().Undefined();
  bool full = info.Length() > 1 && info[1].ToBoolean();
  auto* w = new SyncWorker(info.Env(), info[0], seg, full);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

class TruncateWorker : public PromiseWorker {
 public:
  TruncateWorker(Napi::Env env, Napi::Value handle, Segment* seg, uint64_t size)
      : PromiseWorker(env, seg->path), seg_(seg), size_(size) {
    handle_ref_ = Napi::Persistent(handle.As<Napi::Object>());
  }
  void Execute() override {
    if (seg_->fd < 0) return Fail(EBADF, "ftruncate(closed)");
    if (size_ > seg_->size) return Fail(EINVAL, "ftruncate(beyond logical size)");
    if (::ftruncate(seg_->fd, static_cast<off_t>(size_)) != 0) return Fail(errno, "ftruncate");
    seg_->size = size_;
    seg_->allocated = size_;
    int err = LoadTail(seg_);
    if (err != 0) return Fail(err, "pread");
  }

 private:
  Segment* seg_;
  uint64_t size_;
  Napi::ObjectReference handle_ref_;
};

Napi::Value Truncate(const Napi::CallbackInfo& info) {
  Segment* seg = Unwrap(info[0]);
  if (seg == nullptr) return info.Env().Undefined();
  if (!info[1].IsNumber()) {
    Napi::TypeError::New(info.Env(), "truncate(handle, size)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  auto* w = new TruncateWorker(info.Env(), info[0], seg, static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

class CloseWorker : public PromiseWorker {
 public:
  CloseWorker(Napi::Env env, Napi::Value handle, Segment* seg) : PromiseWorker(env, seg->path), seg_(seg) {
    handle_ref_ = Napi::Persistent(handle.As<Napi::Object>());
  }
  void Execute() override {
    int fd = seg_->fd;
    seg_->fd = -1;
    std::free(seg_->stage);
    seg_->stage = nullptr;
    seg_->stage_capacity = 0;
    if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) return Fail(errno, "close");
  }

 private:
  Segment* seg_;
  Napi::ObjectReference handle_ref_;
};

Napi::Value Close(const Napi::CallbackInfo& info) {
  Segment* seg = Unwrap(info[0]);
  if (seg == nullptr) return info.Env().Undefined();
  auto* w = new CloseWorker(info.Env(), info[0], seg);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value SegmentSize(const Napi::CallbackInfo& info) {
  Segment* seg = Unwrap(info[0]);
  if (seg == nullptr) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(seg->size));
}

}  // namespace

void InitSegment(Napi::Env env, Napi::Object exports) {
  exports.Set("openSegment", Napi::Function::New(env, OpenSegment, "openSegment"));
  exports.Set("append", Napi::Function::New(env, Append, "append"));
  exports.Set("appendNow", Napi::Function::New(env, AppendNow, "appendNow"));
  exports.Set("sync", Napi::Function::New(env, Sync, "sync"));
  exports.Set("truncate", Napi::Function::New(env, Truncate, "truncate"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("segmentSize", Napi::Function::New(env, SegmentSize, "segmentSize"));
}

}  // namespace streambus
