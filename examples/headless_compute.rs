//! Placeholder until the gpu-arena issue lands.
fn main() {}
