//! Limits on what a source may make ward hold or stack (docs/images.md).

/// The largest manifest or index accepted (containerd's and the
/// distribution registry's limit): a manifest is held in memory and parsed.
pub const MANIFEST_MAX: u64 = 4 << 20;
/// The largest config accepted (containerd's limit), for the same reason.
pub const CONFIG_MAX: u64 = 8 << 20;
/// The most layers accepted: the lower directories of one overlayfs mount
/// are limited to a stack of about this many (and page-sized mount options).
pub const LAYERS_MAX: usize = 127;
/// How deep indexes may nest (an index of indexes…).
pub const INDEX_DEPTH_MAX: usize = 4;
/// The most bytes a layer may uncompress to when ward-image itself
/// decompresses one (`save -o`): ward-layer's default unpack limit, so a
/// gzip bomb whose diff_id matches cannot fill the disk through `save`.
pub const LAYER_UNCOMPRESSED_MAX: u64 = 16 << 30;
