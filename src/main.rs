//! The `custody` binary: hands the command line to the library's CLI edge and exits with the code
//! it returns. Must never hold logic of its own.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    custody::cli::main()
}
