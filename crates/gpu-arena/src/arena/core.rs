//! [`Core`]: what an arena is configured with (device, queue, usage, limits,
//! alignments), fixed at creation, and the checks and errors derived from it; plus
//! buffer creation inside error scopes.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::error::{ArenaError, Limit};

/// Bytes per allocator unit: wgpu's copy alignment.
pub(crate) const UNIT: u64 = wgpu::COPY_BUFFER_ALIGNMENT;

/// Greatest common divisor.
pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Least common multiple (0 when either is 0), `None` on overflow.
pub(crate) fn lcm(a: u64, b: u64) -> Option<u64> {
    if a == 0 || b == 0 {
        return Some(0);
    }
    // The common case (an element size that is a multiple of the arena's alignment)
    // without the division loop.
    if b.is_multiple_of(a) {
        return Some(b);
    }
    (a / gcd(a, b)).checked_mul(b)
}

/// An arena's fixed configuration.
pub(crate) struct Core {
    pub label: String,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// The buffer's usage, `COPY_SRC | COPY_DST` included.
    pub usage: wgpu::BufferUsages,
    /// The most the buffer may grow to, and which limit that is.
    pub max_size: u64,
    pub max_size_limit: Limit,
    pub growth_factor: f64,
    /// Alignment of every allocation (a multiple of 4).
    pub min_alignment: u64,
    /// Alignment that makes a range bindable as storage / uniform.
    pub bind_alignment: u64,
    /// The largest range that can be bound as storage / uniform, and which limit it
    /// is (`None` for arenas that are not bound: vertex, index, indirect).
    pub binding_limit: Option<(u64, Limit)>,
    /// Growth only widens the address range; the buffer is replaced when it is next
    /// needed ([`crate::arena::state::State::realize`]), copying only bytes written
    /// through the arena. For arenas whose owner writes only through the arena and
    /// realizes into its own encoder before use (the pools' slabs).
    pub deferred: bool,
    /// A deferred arena whose owner may write straight into a fresh buffer mapped at
    /// creation ([`crate::arena::mapped`]): set where the device has
    /// `Features::MAPPABLE_PRIMARY_BUFFERS` and the owner asked for it.
    pub direct: bool,
}

impl Core {
    /// A request's reserved size and alignment in bytes, checked against the limits.
    pub fn checked_request(&self, bytes: u64, align: u64) -> Result<(u64, u64), ArenaError> {
        if align == 0 {
            return Err(ArenaError::ZeroAlignment);
        }
        if bytes == 0 {
            return Err(ArenaError::ZeroSize);
        }
        let size = bytes
            .checked_next_multiple_of(UNIT)
            .filter(|s| *s <= self.max_size)
            .ok_or_else(|| self.over_limit(bytes, self.max_size_limit, self.max_size))?;
        let align = lcm(self.min_alignment, align)
            .filter(|a| *a <= self.max_size)
            .ok_or_else(|| self.over_limit(align, Limit::Alignment, self.max_size))?;
        Ok((size, align))
    }

    /// Refuses a range of `size` bytes that cannot be bound as this arena's usage.
    pub fn check_binding_size(&self, size: u64) -> Result<(), ArenaError> {
        match self.binding_limit {
            Some((limit, what)) if size > limit => Err(self.over_limit(size, what, limit)),
            _ => Ok(()),
        }
    }

    /// The error for `requested` exceeding limit `what` of value `limit`.
    pub fn over_limit(&self, requested: u64, what: Limit, limit: u64) -> ArenaError {
        ArenaError::OverLimit {
            label: self.label.clone(),
            requested,
            limit,
            what,
        }
    }

    /// The error for `value` not being a multiple of `required`.
    pub fn misaligned(&self, value: u64, required: u64, what: &'static str) -> ArenaError {
        ArenaError::Misaligned {
            label: self.label.clone(),
            value,
            required,
            what,
        }
    }

    /// A buffer of `size` bytes with the arena's usage, created inside error scopes.
    pub fn create_buffer(&self, size: u64) -> Result<wgpu::Buffer, ArenaError> {
        try_create_buffer(&self.device, &self.label, size, self.usage).map_err(|reason| {
            ArenaError::Device {
                label: self.label.clone(),
                requested: size,
                reason,
            }
        })
    }
}

/// The binding size limit of an arena of `usage`: the smaller of the storage and
/// uniform limits its usage can be bound as.
pub(crate) fn binding_limit(
    usage: wgpu::BufferUsages,
    limits: &wgpu::Limits,
) -> Option<(u64, Limit)> {
    let storage = usage.contains(wgpu::BufferUsages::STORAGE).then_some((
        limits.max_storage_buffer_binding_size,
        Limit::MaxStorageBufferBindingSize,
    ));
    let uniform = usage.contains(wgpu::BufferUsages::UNIFORM).then_some((
        limits.max_uniform_buffer_binding_size,
        Limit::MaxUniformBufferBindingSize,
    ));
    [storage, uniform]
        .into_iter()
        .flatten()
        .min_by_key(|(size, _)| *size)
        .map(|(size, limit)| (size / UNIT * UNIT, limit))
}

/// Polls a future once: wgpu's error-scope futures are ready at once on native.
/// `None` when it is not (on the web, where the answer comes later).
pub(crate) fn ready_now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Creates a buffer inside error scopes: an out-of-memory, validation or internal
/// error comes back as `Err(message)` instead of reaching the device's uncaptured
/// error handler (which panics by default).
///
/// On the web the scopes' answers arrive later; there a failure is not seen here.
pub(crate) fn try_create_buffer(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> Result<wgpu::Buffer, String> {
    create_in_scopes(device, label, size, usage, false)
}

/// [`try_create_buffer`] for a buffer mapped at creation (staging chunks, and the
/// fresh buffers of [`crate::arena::mapped`]).
pub(crate) fn try_create_buffer_mapped(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> Result<wgpu::Buffer, String> {
    create_in_scopes(device, label, size, usage, true)
}

fn create_in_scopes(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
    mapped_at_creation: bool,
) -> Result<wgpu::Buffer, String> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation,
    });
    let errors = [validation.pop(), internal.pop(), oom.pop()];
    match errors.into_iter().filter_map(ready_now).flatten().next() {
        Some(error) => {
            buffer.destroy();
            Err(error.to_string())
        }
        None => Ok(buffer),
    }
}

#[cfg(test)]
mod tests {
    use super::{gcd, lcm};

    #[test]
    fn lcm_is_the_smallest_common_multiple_with_or_without_the_shortcut() {
        for a in 0..=64u64 {
            for b in 0..=64u64 {
                // The definition: the smallest positive multiple of both (0 with a 0).
                let expected = if a == 0 || b == 0 {
                    0
                } else {
                    (1..=a * b).find(|m| m % a == 0 && m % b == 0).unwrap()
                };
                assert_eq!(lcm(a, b), Some(expected), "lcm({a}, {b})");
                if a != 0 && b != 0 {
                    assert_eq!(expected * gcd(a, b), a * b);
                }
            }
        }
        assert_eq!(lcm(3, u64::MAX - 1), None, "overflow is refused");
        assert_eq!(lcm(4, 1 << 63), Some(1 << 63));
    }
}
