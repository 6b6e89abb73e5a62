#pragma once
/// @file errors.hpp
/// @brief The error hierarchy: every error says where (file, stage, parameter) and what.
///
/// Only tools/ maps these to a one-line message and an exit status (sysexits.h values).

#include <sstream>
#include <stdexcept>
#include <string>

namespace spinescope {

/// Exit statuses used by the CLI (sysexits.h).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      ///< a batch finished with failed stacks
  kExitUsage = 64,       ///< bad command line or parameter
  kExitDataError = 65,   ///< input file exists but cannot be honoured
  kExitNoInput = 66,     ///< input file missing or unreadable
  kExitSoftware = 70,    ///< internal error in a stage
  kExitCantCreate = 73,  ///< an output could not be written
  kExitInterrupted = 130,  ///< stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it)
};

/// @brief Base of all spinescope errors. what() is the one-line message.
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, int exit_code) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

/// @brief An input file that is missing (exit 66) or cannot be honoured (exit 65). Message: "FILE: reason".
class InputError : public Error {
 public:
  InputError(const std::string& file, const std::string& reason, int exit_code = kExitDataError)
      : Error(file + ": " + reason, exit_code), file_(file), reason_(reason) {}
  const std::string& file() const { return file_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_, reason_;
};

/// @brief A parameter that is unknown, of the wrong type or out of range (exit 64).
class ParameterError : public Error {
 public:
  ParameterError(const std::string& stage, const std::string& key, const std::string& value,
                 const std::string& reason)
      : Error("parameter " + (stage.empty() ? key : stage + "." + key) + "=" + value + ": " + reason, kExitUsage) {}
  explicit ParameterError(const std::string& message) : Error(message, kExitUsage) {}
};

/// @brief A stage that cannot go on (missing artifact, nothing found where something must be).
class StageError : public Error {
 public:
  StageError(const std::string& stage, const std::string& reason)
      : Error("stage " + stage + ": " + reason, kExitSoftware) {}
};

/// @brief An output that cannot be written (exit 73).
class OutputError : public Error {
 public:
  OutputError(const std::string& file, const std::string& reason) : Error(file + ": " + reason, kExitCantCreate) {}
};

/// @brief Thrown when a run is cancelled through the context's cancel flag (exit 130, as for Ctrl-C).
class Cancelled : public Error {
 public:
  Cancelled() : Error("interrupted before the end (every output file present is whole)", kExitInterrupted) {}
};

namespace detail {
template <class A, class B>
std::string check_message(const char* what, const A& a, const char* op, const B& b) {
  std::ostringstream s;
  s << what << " must be " << op << " " << b << " (got " << a << ")";
  return s.str();
}
}  // namespace detail

}  // namespace spinescope

/// Check helpers that print both values: SPINESCOPE_CHECK_GT(z_um, 0.0, "z spacing", StageError("load", _)).
#define SPINESCOPE_CHECK_OP_(a, op, b, what, make_error)                                            \
  do {                                                                                             \
    if (!((a)op(b))) {                                                                             \
      const std::string _ = ::spinescope::detail::check_message((what), (a), #op, (b));            \
      throw make_error;                                                                            \
    }                                                                                              \
  } while (0)
#define SPINESCOPE_CHECK_GT(a, b, what, make_error) SPINESCOPE_CHECK_OP_(a, >, b, what, make_error)
#define SPINESCOPE_CHECK_GE(a, b, what, make_error) SPINESCOPE_CHECK_OP_(a, >=, b, what, make_error)
#define SPINESCOPE_CHECK_LE(a, b, what, make_error) SPINESCOPE_CHECK_OP_(a, <=, b, what, make_error)
