//! [`ElementWriter`]: typed, write-only access to mapped memory, for inserts that
//! write their elements straight into staging (or a mapped slab buffer) without
//! building a `Vec` first and without `unsafe`.

use bytemuck::Pod;

/// An element transform and its argument (index rebasing).
type Adjust<T> = fn(T, u32) -> T;

/// Typed, write-only access to staged memory: elements of `T` written straight into
/// the mapped chunk. (wgpu gives mapped memory only as [`wgpu::WriteOnly`] bytes, and
/// viewing them as `&mut [T]` would need `unsafe`, which this crate forbids; this is
/// the safe equivalent.)
pub struct ElementWriter<'a, T> {
    bytes: wgpu::WriteOnly<'a, [u8]>,
    /// Applied to every element written, with its argument (index rebasing).
    adjust: Option<(u32, Adjust<T>)>,
}

impl<'a, T: Pod> ElementWriter<'a, T> {
    /// Wraps `bytes` (a multiple of `size_of::<T>()` long).
    pub(crate) fn new(bytes: wgpu::WriteOnly<'a, [u8]>) -> Self {
        ElementWriter {
            bytes,
            adjust: None,
        }
    }

    /// As [`Self::new`], writing `adjust(value, by)` for every `value` written.
    pub(crate) fn adjusted(
        bytes: wgpu::WriteOnly<'a, [u8]>,
        by: u32,
        adjust: fn(T, u32) -> T,
    ) -> Self {
        ElementWriter {
            bytes,
            adjust: Some((by, adjust)),
        }
    }

    /// Elements the writer holds.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let mut writer = gpu_arena::Staging::new(&gpu.device, &Default::default()).writer();
    /// writer.stage_elements::<u32>(5, |w| assert_eq!(w.len(), 5)).unwrap();
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len() / size_of::<T>().max(1)
    }

    /// Whether it holds no element.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let mut writer = gpu_arena::Staging::new(&gpu.device, &Default::default()).writer();
    /// writer.stage_elements::<u32>(1, |w| assert!(!w.is_empty())).unwrap();
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes element `index`.
    ///
    /// # Panics
    /// If `index` is not below [`Self::len`].
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let mut writer = gpu_arena::Staging::new(&gpu.device, &Default::default()).writer();
    /// writer.stage_elements::<u16>(2, |mut w| { w.write(1, 7); w.write(0, 3); }).unwrap();
    /// ```
    pub fn write(&mut self, index: usize, value: T) {
        let value = match self.adjust {
            Some((by, adjust)) => adjust(value, by),
            None => value,
        };
        let size = size_of::<T>();
        self.bytes
            .slice(index * size..(index + 1) * size)
            .copy_from_slice(bytemuck::bytes_of(&value));
    }

    /// Writes every element from `values` (as long as the writer).
    ///
    /// # Panics
    /// If the lengths differ.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let mut writer = gpu_arena::Staging::new(&gpu.device, &Default::default()).writer();
    /// writer.stage_elements::<u32>(3, |mut w| w.copy_from_slice(&[1, 2, 3])).unwrap();
    /// ```
    pub fn copy_from_slice(&mut self, values: &[T]) {
        if self.adjust.is_some() {
            assert_eq!(values.len(), self.len(), "copy_from_slice: lengths differ");
            for (index, &value) in values.iter().enumerate() {
                self.write(index, value);
            }
            return;
        }
        self.bytes
            .slice(..)
            .copy_from_slice(bytemuck::cast_slice(values));
    }

    /// Writes the elements `values` yields, from the first (as many as fit).
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// # let mut writer = gpu_arena::Staging::new(&gpu.device, &Default::default()).writer();
    /// writer.stage_elements::<u32>(4, |mut w| w.write_iter((0..4).map(|i| i * i))).unwrap();
    /// ```
    pub fn write_iter(&mut self, values: impl IntoIterator<Item = T>) {
        let len = self.len();
        for (index, value) in values.into_iter().take(len).enumerate() {
            self.write(index, value);
        }
    }
}
