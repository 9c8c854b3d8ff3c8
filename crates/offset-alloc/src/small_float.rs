//! The 8-bit floating-point size scale that names the 256 bins.
//!
//! A size class is a tiny float: 5 bits of exponent and 3 bits of mantissa with a
//! hidden leading one, exactly like IEEE floats but without a sign. Classes below 8
//! are exact ("denormals"); above, each power of two is split into 8 steps, so a
//! region's class never understates its size by more than 12.5%. Rounding a request
//! *up* picks the first class whose every member fits it; rounding a free region
//! *down* picks the class it certainly satisfies. The conversions and their names
//! follow Sebastian Aaltonen's original so upstream fixes carry over.

/// Bits of mantissa in a bin index (8 bins per power of two).
pub const MANTISSA_BITS: u32 = 3;
/// Value of the hidden leading mantissa bit.
pub const MANTISSA_VALUE: u32 = 1 << MANTISSA_BITS;
/// Mask selecting the stored mantissa bits.
pub const MANTISSA_MASK: u32 = MANTISSA_VALUE - 1;
/// The last bin whose lower bound fits in a `u32` (bin 240 would start at 2^32).
pub const LAST_U32_BIN: u32 = 239;

/// Smallest bin whose lower bound is at least `size`.
#[inline]
pub fn uint_to_float_round_up(size: u32) -> u32 {
    let (exp, shift) = exponent_and_shift(size);
    let mantissa = (size >> shift) & MANTISSA_MASK;
    // Any bit below the mantissa rounds up; `+` lets a mantissa of 8 carry into the exponent.
    let inexact = (size & ((1 << shift) - 1) != 0) as u32;
    ((exp << MANTISSA_BITS) | mantissa) + inexact
}

/// Largest bin whose lower bound is at most `size`.
#[inline]
pub fn uint_to_float_round_down(size: u32) -> u32 {
    let (exp, shift) = exponent_and_shift(size);
    (exp << MANTISSA_BITS) | ((size >> shift) & MANTISSA_MASK)
}

/// Exponent and mantissa shift of `size`, without branches: sizes below 8 are
/// denormals (exponent 0, shift 0), 8..16 have exponent 1 and shift 0, and each
/// further power of two adds one to both.
#[inline(always)]
fn exponent_and_shift(size: u32) -> (u32, u32) {
    let highest_bit = 31 - (size | 1).leading_zeros();
    let shift = highest_bit.saturating_sub(MANTISSA_BITS);
    (shift + u32::from(size >= MANTISSA_VALUE), shift)
}

/// Lower bound of bin `float_value`; bins past [`LAST_U32_BIN`] saturate at `u32::MAX`.
#[inline]
pub fn float_to_uint(float_value: u32) -> u32 {
    let exponent = float_value >> MANTISSA_BITS;
    let mantissa = float_value & MANTISSA_MASK;
    if exponent == 0 {
        mantissa
    } else {
        let wide = u64::from(mantissa | MANTISSA_VALUE) << (exponent - 1);
        u32::try_from(wide).unwrap_or(u32::MAX)
    }
}

/// The size a request of `size` is charged under [`crate::Rounding::BinSize`]: the
/// lower bound of its round-up bin, or `size` itself where that bound overflows.
#[inline]
pub fn bin_rounded_size(size: u32) -> u32 {
    let bin = uint_to_float_round_up(size);
    if bin > LAST_U32_BIN {
        size
    } else {
        float_to_uint(bin)
    }
}
