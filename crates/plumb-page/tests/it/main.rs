//! Integration tests of plumb-page: Debian's chromium loading fixture sites that a real nginx
//! serves on 127.0.0.1, each with planted properties whose figures are checked against the truth.

mod errors;
mod site;
mod vitals;
