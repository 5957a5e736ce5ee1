//! The system clock and the operating system's randomness.

use crate::platform::{Clock, Entropy};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// `getrandom`: the kernel's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, dest: &mut [u8]) {
        // The OS generator fails only where there is no randomness source at all; going on
        // without one would make keys guessable, so that is the one place this wallet stops.
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, dest);
    }
}
