//! Integration tests of the load engine against real servers on 127.0.0.1: the embedded target,
//! misbehaving servers, TLS, HTTP/2 and a real nginx.

mod errors;
mod flows;
mod misbehave;
mod models;
mod protocols;
mod support;
