#pragma once
/// @file context.hpp
/// @brief Everything one stack's analysis touches: artifacts, stack info, progress, cancellation.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <typeindex>

#include "spinescope/errors.hpp"
#include "spinescope/spacing.hpp"

namespace spinescope {

/// @brief What is known about the input stack and the run (provenance goes into summary.json).
struct StackInfo {
  std::string path;             ///< input file as given
  std::string output_dir;       ///< where the report stage writes ("" = no files)
  std::string sha256;           ///< of the input file, filled by load
  Spacing spacing;              ///< µm, filled by load
  SpacingSource spacing_source = SpacingSource::kUnknown;
  std::size_t nx = 0, ny = 0, nz = 0;
  int bits_per_sample = 0;
  std::string sample_format;    ///< "uint", "int", "float"
  int channels = 1, channel = 0, frames = 1, frame = 0;
  std::map<std::string, std::string> metadata;  ///< free-form notes (format, compression, ...)
  std::map<std::string, std::map<std::string, std::string>> parameters;  ///< stage -> param -> value
};

/// @brief Progress of a run, as reported to a sink (only tools/ prints it).
struct Progress {
  std::string stage;
  int stage_index = 0;
  int stage_count = 1;
  double stage_fraction = 0.0;  ///< 0..1 within the stage
  double overall = 0.0;         ///< 0..1 across the pipeline
};

using ProgressSink = std::function<void(const Progress&)>;

/// @brief One stack's artifacts and services. Stages read what earlier stages put here and add their own.
class Context {
 public:
  explicit Context(StackInfo info = {}) : info_(std::move(info)) {}

  StackInfo& info() { return info_; }
  const StackInfo& info() const { return info_; }

  /// @brief Stores an artifact under @p key (replacing any earlier one).
  template <class T>
  void put(const std::string& key, T value) {
    artifacts_[key] = Entry{std::make_shared<T>(std::move(value)), std::type_index(typeid(T))};
  }
  /// @brief The artifact under @p key, or nullptr if absent. Throws StageError if it has another type.
  template <class T>
  T* find(const std::string& key) const {
    auto it = artifacts_.find(key);
    if (it == artifacts_.end()) return nullptr;
    if (it->second.type != std::type_index(typeid(T)))
      throw StageError(current_stage_, "artifact '" + key + "' has another type than requested");
    return static_cast<T*>(it->second.value.get());
  }
  /// @brief The artifact under @p key; throws StageError naming the key when it is missing.
  template <class T>
  T& get(const std::string& key) const {
    T* p = find<T>(key);
    if (!p) throw StageError(current_stage_, "missing artifact '" + key + "'");
    return *p;
  }
  bool has(const std::string& key) const { return artifacts_.count(key) > 0; }
  void erase(const std::string& key) { artifacts_.erase(key); }
  std::vector<std::string> keys() const;

  // Progress and cancellation (the pipeline sets stage index/count; stages call report_progress).
  void set_progress_sink(ProgressSink sink) { sink_ = std::move(sink); }
  void begin_stage(const std::string& name, int index, int count);
  /// @brief Reports @p fraction (0..1) of the current stage done; also checks cancellation.
  void report_progress(double fraction);
  void set_cancel_flag(const std::atomic<bool>* flag) { cancel_ = flag; }
  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }
  /// @brief Throws Cancelled if the cancel flag is raised.
  void check_cancel() const {
    if (cancelled()) throw Cancelled();
  }
  const std::string& current_stage() const { return current_stage_; }

 private:
  struct Entry {
    std::shared_ptr<void> value;
    std::type_index type = std::type_index(typeid(void));
  };
  StackInfo info_;
  std::map<std::string, Entry> artifacts_;
  ProgressSink sink_;
  const std::atomic<bool>* cancel_ = nullptr;
  std::string current_stage_;
  int stage_index_ = 0, stage_count_ = 1;
};

}  // namespace spinescope
