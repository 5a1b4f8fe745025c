//! Seeded parameter initialisation that no other thread can disturb.
//!
//! burn keeps one random generator per process (`Device::seed`), shared by
//! every thread. Two models built at the same time on two threads (two
//! tests in one test binary, a library caller's own threads) draw from one
//! stream, so "same seed, same weights" held only when nothing else in the
//! process drew a random number meanwhile.
//!
//! [`seeded`] gives the calling thread a generator of its own for the time
//! of one closure. Every parameter initialiser of this crate draws from it
//! ([`random`]). It is the generator and the sampling code burn's `flex`
//! backend uses (`StdRng::seed_from_u64`, then `TensorData::random` in
//! order), so `seeded(s, || Model::new(..))` gives the weights that
//! `device.seed(s); Model::new(..)` gave in a process with nothing else
//! running. Outside [`seeded`], [`random`] falls back to burn's shared
//! generator.
//!
//! ```
//! use dnalm_model::{BertConfig, BertForMaskedLm};
//!
//! let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
//! let config = BertConfig::preset("tiny", Some(16)).unwrap();
//! let a = dnalm_model::seeded(7, || BertForMaskedLm::new(&config, &device));
//! let b = dnalm_model::seeded(7, || BertForMaskedLm::new(&config, &device));
//! assert_eq!(
//!     dnalm_model::weights::state_dict(&a),
//!     dnalm_model::weights::state_dict(&b)
//! );
//! ```

use std::cell::RefCell;

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use burn_rand::rngs::StdRng;
use burn_rand::SeedableRng;

thread_local! {
    static GENERATOR: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's initialisers drawing from a generator seeded
/// by `seed`, then puts back whatever generator was there before (so calls
/// nest). The result depends on `seed` and `f` only.
pub fn seeded<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<StdRng>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            GENERATOR.with(|g| *g.borrow_mut() = previous);
        }
    }
    let previous = GENERATOR.with(|g| g.borrow_mut().replace(StdRng::seed_from_u64(seed)));
    let _restore = Restore(previous);
    f()
}

/// A float tensor of `shape` drawn from `distribution`: from this thread's
/// [`seeded`] generator when there is one, else from burn's shared one.
pub fn random<const D: usize>(
    shape: [usize; D],
    distribution: Distribution,
    device: &Device,
) -> Tensor<D> {
    let data = GENERATOR.with(|g| {
        g.borrow_mut()
            .as_mut()
            .map(|rng| TensorData::random::<f32, _, _>(shape, distribution, rng))
    });
    match data {
        Some(data) => Tensor::from_data(data, device),
        None => Tensor::random(shape, distribution, device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn other_threads_drawing_meanwhile_change_nothing() {
        let device = Device::flex();
        let d = Distribution::Uniform(-1.0, 1.0);
        let draw = || {
            seeded(3, || {
                (0..50)
                    .flat_map(|_| values(random([4, 4], d, &device)))
                    .collect::<Vec<f32>>()
            })
        };
        let alone = draw();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let busy = std::thread::scope(|s| {
            let noise = s.spawn(|| {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    device.seed(n);
                    let _ = values(Tensor::random([4, 4], d, &device));
                    let _ = seeded(n, || values(random([4, 4], d, &device)));
                    n += 1;
                }
            });
            let busy = (0..20).map(|_| draw()).collect::<Vec<_>>();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            noise.join().unwrap();
            busy
        });
        assert!(busy.iter().all(|b| *b == alone));
        assert_ne!(alone, seeded(4, || values(random([4, 4], d, &device))));
    }

    #[test]
    fn nested_calls_restore_the_outer_stream() {
        let device = Device::flex();
        let d = Distribution::Default;
        let plain = seeded(1, || {
            let a = values(random([2, 3], d, &device));
            let b = values(random([2, 3], d, &device));
            (a, b)
        });
        let nested = seeded(1, || {
            let a = values(random([2, 3], d, &device));
            let _inner = seeded(2, || values(random([2, 3], d, &device)));
            let b = values(random([2, 3], d, &device));
            (a, b)
        });
        assert_eq!(plain, nested);
    }
}
