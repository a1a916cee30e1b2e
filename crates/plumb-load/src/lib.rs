//! plumb's HTTP load engine: schedules, connections, per-thread recording.
