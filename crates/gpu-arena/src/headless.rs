//! Creating a wgpu device without a window, for tests and CI.
//!
//! The helper honours `WGPU_BACKEND` (e.g. `vulkan`, `gl`) and `WGPU_ADAPTER_NAME`
//! (a case-insensitive substring), prefers hardware adapters and falls back to
//! software ones (lavapipe, llvmpipe, WARP). It logs the adapter it picks, and when
//! there is none it fails with a message that says what to install — a test built on
//! it can never pass by silently skipping.

use std::fmt;

/// Options for [`Headless::new`]. Every field has a default.
///
/// ```
/// let desc = gpu_arena::headless::HeadlessDescriptor::default();
/// assert!(desc.allow_software);
/// ```
#[derive(Clone, Debug)]
pub struct HeadlessDescriptor {
    /// Backends to search. Default: `WGPU_BACKEND` if set, else all.
    pub backends: Option<wgpu::Backends>,
    /// Substring of the adapter name to require. Default: `WGPU_ADAPTER_NAME` if set.
    pub adapter_name: Option<String>,
    /// Whether CPU (software) adapters may be used. Default: true.
    pub allow_software: bool,
    /// Features the device must have. Default: none.
    pub required_features: wgpu::Features,
    /// Limits to request. Default (`None`): everything the adapter offers.
    pub required_limits: Option<wgpu::Limits>,
    /// Device label. Default: `"headless"`.
    pub label: &'static str,
}

impl Default for HeadlessDescriptor {
    fn default() -> Self {
        HeadlessDescriptor {
            backends: None,
            adapter_name: None,
            allow_software: true,
            required_features: wgpu::Features::empty(),
            required_limits: None,
            label: "headless",
        }
    }
}

/// Why no headless device could be created.
///
/// ```
/// use gpu_arena::headless::HeadlessError;
/// let err = HeadlessError::NoAdapter { backends: "GL".into(), adapter_name: None, seen: vec![] };
/// assert!(err.to_string().contains("mesa-vulkan-drivers"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadlessError {
    /// No adapter matched.
    NoAdapter {
        /// The backends searched.
        backends: String,
        /// The name filter in force.
        adapter_name: Option<String>,
        /// Adapters found but rejected, as `name (backend, type)`.
        seen: Vec<String>,
    },
    /// The adapter refused to create a device.
    RequestDevice {
        /// The adapter tried.
        adapter: String,
        /// wgpu's message.
        reason: String,
    },
}

impl fmt::Display for HeadlessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadlessError::NoAdapter {
                backends,
                adapter_name,
                seen,
            } => {
                write!(f, "no GPU adapter found (backends: {backends}")?;
                if let Some(name) = adapter_name {
                    write!(f, ", name containing {name:?}")?;
                }
                write!(f, "; rejected: {seen:?}). ")?;
                write!(
                    f,
                    "No GPU is needed: install Mesa's software drivers, e.g. on Debian/Ubuntu \
                     `apt-get install mesa-vulkan-drivers libvulkan1` (lavapipe, WGPU_BACKEND=vulkan) or \
                     `apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri` (llvmpipe, WGPU_BACKEND=gl); \
                     on Windows, DX12 WARP ships with the system"
                )
            }
            HeadlessError::RequestDevice { adapter, reason } => {
                write!(f, "adapter {adapter} could not create a device: {reason}")
            }
        }
    }
}

impl std::error::Error for HeadlessError {}

/// A windowless instance, adapter, device and queue.
///
/// ```
/// use gpu_arena::headless::Headless;
/// let gpu = Headless::new(&Default::default()).expect("a GPU or Mesa's software drivers");
/// println!("running on {}", gpu.describe());
/// ```
pub struct Headless {
    /// The instance the adapter came from.
    pub instance: wgpu::Instance,
    /// The chosen adapter.
    pub adapter: wgpu::Adapter,
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// The adapter's description.
    pub info: wgpu::AdapterInfo,
}

/// Preference order: hardware first, software last.
fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

impl Headless {
    /// Picks an adapter and creates a device (blocking).
    ///
    /// # Errors
    /// [`HeadlessError::NoAdapter`] (with what to install) or
    /// [`HeadlessError::RequestDevice`].
    ///
    /// ```
    /// use gpu_arena::headless::{Headless, HeadlessDescriptor};
    /// let gpu = Headless::new(&HeadlessDescriptor { label: "doc", ..Default::default() }).unwrap();
    /// assert!(gpu.device.limits().max_buffer_size > 0);
    /// ```
    pub fn new(desc: &HeadlessDescriptor) -> Result<Self, HeadlessError> {
        pollster::block_on(Self::new_async(desc))
    }

    /// [`Self::new`] as a future.
    ///
    /// # Errors
    /// As [`Self::new`].
    ///
    /// ```
    /// let gpu = pollster::block_on(gpu_arena::headless::Headless::new_async(&Default::default())).unwrap();
    /// # drop(gpu);
    /// ```
    pub async fn new_async(desc: &HeadlessDescriptor) -> Result<Self, HeadlessError> {
        let backends = desc
            .backends
            .unwrap_or_else(|| wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all()));
        let adapter_name = desc
            .adapter_name
            .clone()
            .or_else(|| std::env::var("WGPU_ADAPTER_NAME").ok());
        let mut instance_desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        instance_desc.backends = backends;
        let instance = wgpu::Instance::new(instance_desc);

        let mut seen = Vec::new();
        let mut candidates = Vec::new();
        for adapter in instance.enumerate_adapters(backends).await {
            let info = adapter.get_info();
            let label = format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type);
            let name_ok = adapter_name
                .as_ref()
                .is_none_or(|n| info.name.to_lowercase().contains(&n.to_lowercase()));
            let type_ok = desc.allow_software || info.device_type != wgpu::DeviceType::Cpu;
            let features_ok = adapter.features().contains(desc.required_features);
            if name_ok && type_ok && features_ok {
                candidates.push((rank(info.device_type), adapter, info));
            } else {
                seen.push(label);
            }
        }
        candidates.sort_by_key(|(rank, _, _)| *rank);
        let Some((_, adapter, info)) = candidates.into_iter().next() else {
            return Err(HeadlessError::NoAdapter {
                backends: format!("{backends:?}"),
                adapter_name,
                seen,
            });
        };
        log::info!(
            "headless: using {} ({:?}, {:?}, driver {} {})",
            info.name,
            info.backend,
            info.device_type,
            info.driver,
            info.driver_info
        );
        let limits = desc
            .required_limits
            .clone()
            .unwrap_or_else(|| adapter.limits());
        let device_desc = wgpu::DeviceDescriptor {
            label: Some(desc.label),
            required_features: desc.required_features,
            required_limits: limits,
            ..Default::default()
        };
        let (device, queue) = adapter.request_device(&device_desc).await.map_err(|e| {
            HeadlessError::RequestDevice {
                adapter: info.name.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(Headless {
            instance,
            adapter,
            device,
            queue,
            info,
        })
    }

    /// One line naming the adapter: `name (backend, type)`.
    ///
    /// ```
    /// let gpu = gpu_arena::headless::Headless::new(&Default::default()).unwrap();
    /// assert!(gpu.describe().contains(&gpu.info.name));
    /// ```
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.backend, self.info.device_type
        )
    }
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn hardware_adapters_rank_before_software_ones() {
        use wgpu::DeviceType::*;
        let mut types = [Cpu, Other, VirtualGpu, IntegratedGpu, DiscreteGpu];
        types.sort_by_key(|t| rank(*t));
        assert_eq!(types, [DiscreteGpu, IntegratedGpu, VirtualGpu, Other, Cpu]);
    }
}
