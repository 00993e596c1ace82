//! seccomp filter loading (being written).
