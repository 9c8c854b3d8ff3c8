//! Creating a wgpu device without a window, for tests and CI.
//!
//! The helper honours `WGPU_BACKEND` (e.g. `vulkan`, `gl`), `WGPU_ADAPTER_NAME` (a
//! case-insensitive substring) and `GPU_ARENA_LIMITS` (`adapter` or `webgpu`: open
//! the device with everything the adapter offers, or with wgpu's default limits,
//! which are WebGPU's, so code that only works with a software adapter's generous
//! limits is caught). It prefers hardware adapters and falls back to software ones
//! (lavapipe, llvmpipe, WARP). It logs the adapter it picks, and when there is none
//! it fails with a message that says what to install — a test built on it can never
//! pass by silently skipping.
//!
//! [`Harness`] runs one test body on every adapter found, reports per adapter, and
//! takes named expected failures keyed on backend or adapter name, as wgpu's own
//! test harness does.

use std::fmt;

#[cfg(not(target_arch = "wasm32"))]
mod harness;

#[cfg(not(target_arch = "wasm32"))]
pub use harness::{ExpectedFailure, Harness, Outcome, Report};

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
    /// Features enabled when the adapter has them. Default: the ones GPU-driven
    /// drawing uses ([`crate::objects::CullPath`]), `INDIRECT_FIRST_INSTANCE` and
    /// `MULTI_DRAW_INDIRECT_COUNT`, and `MAPPABLE_PRIMARY_BUFFERS`, which lets mesh
    /// pools write new slabs in place
    /// ([`crate::mesh_pool::MeshPoolDescriptor::direct_writes`]). That one is never
    /// enabled on a discrete GPU unless required: there it would put such buffers in
    /// slower host-visible memory.
    pub optional_features: wgpu::Features,
    /// Limits to open the device with. Default: `GPU_ARENA_LIMITS` if set (`adapter`
    /// or `webgpu`), else [`DeviceLimits::Adapter`].
    pub limits: DeviceLimits,
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
            optional_features: wgpu::Features::INDIRECT_FIRST_INSTANCE
                | wgpu::Features::MULTI_DRAW_INDIRECT_COUNT
                | wgpu::Features::MAPPABLE_PRIMARY_BUFFERS,
            limits: DeviceLimits::from_env(),
            label: "headless",
        }
    }
}

/// The limits a headless device is opened with.
///
/// ```
/// use gpu_arena::headless::{DeviceLimits, Headless, HeadlessDescriptor};
/// let small = DeviceLimits::FromAdapter(|adapter| wgpu::Limits { max_buffer_size: 1 << 20, ..adapter.clone() });
/// let gpu = Headless::new(&HeadlessDescriptor { limits: small, ..Default::default() }).unwrap();
/// assert_eq!(gpu.device.limits().max_buffer_size, 1 << 20);
/// ```
#[derive(Clone, Debug)]
pub enum DeviceLimits {
    /// Everything the adapter offers.
    Adapter,
    /// wgpu's default limits, which are WebGPU's (256 MiB buffers, 128 MiB storage
    /// bindings, ...), lowered where the adapter offers less.
    WebGpuDefault,
    /// Exactly these.
    Exactly(Box<wgpu::Limits>),
    /// Derived from the adapter's (for example, the adapter's with a smaller
    /// `max_buffer_size`).
    FromAdapter(fn(&wgpu::Limits) -> wgpu::Limits),
}

impl DeviceLimits {
    /// `GPU_ARENA_LIMITS=webgpu` selects [`DeviceLimits::WebGpuDefault`]; anything
    /// else (or nothing) [`DeviceLimits::Adapter`].
    ///
    /// ```
    /// let limits = gpu_arena::headless::DeviceLimits::from_env();
    /// # let _ = limits;
    /// ```
    pub fn from_env() -> DeviceLimits {
        match std::env::var("GPU_ARENA_LIMITS").as_deref() {
            Ok("webgpu") => DeviceLimits::WebGpuDefault,
            _ => DeviceLimits::Adapter,
        }
    }

    /// The limits to request from an adapter offering `adapter`.
    ///
    /// ```
    /// use gpu_arena::headless::DeviceLimits;
    /// let offered = wgpu::Limits { max_buffer_size: 1 << 40, ..Default::default() };
    /// assert_eq!(DeviceLimits::WebGpuDefault.resolve(&offered).max_buffer_size, 256 << 20);
    /// ```
    pub fn resolve(&self, adapter: &wgpu::Limits) -> wgpu::Limits {
        match self {
            DeviceLimits::Adapter => adapter.clone(),
            DeviceLimits::WebGpuDefault => wgpu::Limits::default().or_worse_values_from(adapter),
            DeviceLimits::Exactly(limits) => (**limits).clone(),
            DeviceLimits::FromAdapter(derive) => derive(adapter),
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
                if cfg!(target_arch = "wasm32") {
                    return write!(
                        f,
                        "The browser gave no WebGPU adapter: use a browser with WebGPU enabled; \
                         headless Chromium needs `--enable-unsafe-webgpu \
                         --use-webgpu-adapter=swiftshader` (see the README's web section)"
                    );
                }
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

/// What an adapter search found.
struct Search {
    instance: wgpu::Instance,
    /// The adapters accepted, best first.
    accepted: Vec<(wgpu::Adapter, wgpu::AdapterInfo)>,
    /// The backends searched.
    backends: wgpu::Backends,
    /// The name filter in force.
    adapter_name: Option<String>,
    /// Adapters found but rejected, as `name (backend, type)`.
    rejected: Vec<String>,
}

impl Search {
    /// The error for a search that accepted nothing.
    fn no_adapter(self) -> HeadlessError {
        HeadlessError::NoAdapter {
            backends: format!("{:?}", self.backends),
            adapter_name: self.adapter_name,
            seen: self.rejected,
        }
    }
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
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(desc: &HeadlessDescriptor) -> Result<Self, HeadlessError> {
        pollster::block_on(Self::new_async(desc))
    }

    /// [`Self::new`] as a future that never blocks: the form for the web (where
    /// [`Self::new`], [`Self::all`] and [`Self::shared`] do not exist).
    ///
    /// # Errors
    /// As [`Self::new`].
    ///
    /// ```
    /// let gpu = pollster::block_on(gpu_arena::headless::Headless::new_async(&Default::default())).unwrap();
    /// # drop(gpu);
    /// ```
    pub async fn new_async(desc: &HeadlessDescriptor) -> Result<Self, HeadlessError> {
        let mut search = Self::search(desc).await;
        if search.accepted.is_empty() {
            return Err(search.no_adapter());
        }
        let (adapter, info) = search.accepted.remove(0);
        log::info!(
            "headless: using {} ({:?}, {:?}, driver {} {})",
            info.name,
            info.backend,
            info.device_type,
            info.driver,
            info.driver_info
        );
        Self::open(search.instance, adapter, info, desc).await
    }

    /// The adapters `desc` accepts, best first, and what the search looked at.
    async fn search(desc: &HeadlessDescriptor) -> Search {
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
        Search {
            instance,
            accepted: candidates.into_iter().map(|(_, a, i)| (a, i)).collect(),
            backends,
            adapter_name,
            rejected: seen,
        }
    }

    /// Opens a device on `adapter` as `desc` says.
    async fn open(
        instance: wgpu::Instance,
        adapter: wgpu::Adapter,
        info: wgpu::AdapterInfo,
        desc: &HeadlessDescriptor,
    ) -> Result<Self, HeadlessError> {
        let device_desc = wgpu::DeviceDescriptor {
            label: Some(desc.label),
            required_features: features_to_enable(desc, adapter.features(), info.device_type),
            required_limits: desc.limits.resolve(&adapter.limits()),
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

    /// Every adapter `desc` accepts, hardware first, each with its own device.
    ///
    /// # Errors
    /// [`HeadlessError::NoAdapter`] when none matches (with what to install), or the
    /// first [`HeadlessError::RequestDevice`].
    ///
    /// ```
    /// let all = gpu_arena::headless::Headless::all(&Default::default()).unwrap();
    /// assert!(!all.is_empty());
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn all(desc: &HeadlessDescriptor) -> Result<Vec<Headless>, HeadlessError> {
        pollster::block_on(Self::all_async(desc))
    }

    /// [`Self::all`] as a future.
    ///
    /// # Errors
    /// As [`Self::all`].
    ///
    /// ```
    /// let all = pollster::block_on(gpu_arena::headless::Headless::all_async(&Default::default())).unwrap();
    /// # drop(all);
    /// ```
    pub async fn all_async(desc: &HeadlessDescriptor) -> Result<Vec<Headless>, HeadlessError> {
        let search = Self::search(desc).await;
        if search.accepted.is_empty() {
            return Err(search.no_adapter());
        }
        let mut all = Vec::with_capacity(search.accepted.len());
        for (adapter, info) in search.accepted {
            all.push(Self::open(search.instance.clone(), adapter, info, desc).await?);
        }
        Ok(all)
    }

    /// A device for the whole process, opened with the default descriptor on first
    /// use (blocking) and shared by every caller after: for doc examples, examples and
    /// tests that need a GPU but not one of their own.
    ///
    /// # Errors
    /// As [`Self::new`] (the error is remembered: later calls return it too).
    ///
    /// ```
    /// let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let again = gpu_arena::headless::Headless::shared().unwrap();
    /// assert!(std::ptr::eq(gpu, again));
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn shared() -> Result<&'static Headless, HeadlessError> {
        static SHARED: std::sync::OnceLock<Result<Headless, HeadlessError>> =
            std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| Headless::new(&HeadlessDescriptor::default()))
            .as_ref()
            .map_err(Clone::clone)
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

/// The features a device is opened with: the required ones, and the optional ones
/// the adapter has, less `MAPPABLE_PRIMARY_BUFFERS` on a discrete GPU (there it
/// would put mappable vertex and index buffers in slower host-visible memory).
fn features_to_enable(
    desc: &HeadlessDescriptor,
    adapter: wgpu::Features,
    device_type: wgpu::DeviceType,
) -> wgpu::Features {
    let mut optional = desc.optional_features & adapter;
    if device_type == wgpu::DeviceType::DiscreteGpu {
        optional.remove(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
    }
    desc.required_features | optional
}

#[cfg(test)]
mod tests {
    use super::{HeadlessDescriptor, features_to_enable, rank};

    #[test]
    fn mappable_primary_buffers_are_enabled_everywhere_but_on_discrete_gpus() {
        use wgpu::DeviceType::*;
        let mappable = wgpu::Features::MAPPABLE_PRIMARY_BUFFERS;
        let desc = HeadlessDescriptor::default();
        for (device_type, enabled) in [
            (Cpu, true),
            (IntegratedGpu, true),
            (VirtualGpu, true),
            (Other, true),
            (DiscreteGpu, false),
        ] {
            let features = features_to_enable(&desc, wgpu::Features::all(), device_type);
            assert_eq!(features.contains(mappable), enabled, "{device_type:?}");
        }
        let lacking = features_to_enable(&desc, wgpu::Features::empty(), Cpu);
        assert!(
            lacking.is_empty(),
            "optional features the adapter lacks stay off"
        );
        let required = HeadlessDescriptor {
            required_features: mappable,
            ..Default::default()
        };
        assert!(
            features_to_enable(&required, wgpu::Features::empty(), DiscreteGpu).contains(mappable),
            "a required feature is always asked for"
        );
    }

    #[test]
    fn hardware_adapters_rank_before_software_ones() {
        use wgpu::DeviceType::*;
        let mut types = [Cpu, Other, VirtualGpu, IntegratedGpu, DiscreteGpu];
        types.sort_by_key(|t| rank(*t));
        assert_eq!(types, [DiscreteGpu, IntegratedGpu, VirtualGpu, Other, Cpu]);
    }
}
