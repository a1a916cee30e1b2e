//! Test support for plumb: local misbehaving servers, nginx, TLS fixtures.
