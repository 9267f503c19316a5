//! The `custody` binary: hands the command line to the library's CLI edge and exits with the code
//! it returns. Must never hold logic of its own.
#![forbid(unsafe_code)]

/// mimalloc rather than the system allocator: see the note on the dependency in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    custody::main()
}
