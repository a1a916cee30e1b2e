//! CPU sampling through perf_event_open(2): the software CPU clock, user space only, one event
//! per CPU for the process (inherited by threads it creates), records read from mmap'd rings.

pub(crate) mod access;
pub(crate) mod records;
pub(crate) mod sampler;
pub(crate) mod sys;
pub(crate) mod waits;
