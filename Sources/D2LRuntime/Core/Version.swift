/// d2l's version, the one place it is written: libd2l's `d2l_version_string()`, the CLIs'
/// `--version`, `d2l.producer` of converted models, and (read by tools/dev/libd2l-version)
/// the installed library's file name, d2l.pc, the CMake package and the Python wheel,
/// whose `pyproject.toml` and `d2l_runtime.__version__` must equal it.
public let d2lVersion: StaticString = "0.1.0"
