#pragma once
// Polling with a deadline: the only way tests wait for something to happen (never a bare sleep).
#include <chrono>
#include <functional>

namespace support {

/// Calls `condition` until it returns true or `timeout` of real time passes; between calls it
/// yields for a short, growing interval (up to 5 ms). Returns the last result of `condition`.
bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// A free TCP port on 127.0.0.1 at the moment of the call (bind to port 0, read it, close).
/// Prefer httplib's bind_to_any_port where the server is ours; this is for child processes.
int FreeLoopbackPort();

}  // namespace support
