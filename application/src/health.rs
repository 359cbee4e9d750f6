//! Readiness: asks every critical dependency whether it answers.

use std::sync::Arc;

use domain::ports::ReadinessProbe;

/// The outcome of one readiness check: each dependency's name and whether it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadinessReport {
    pub checks: Vec<(&'static str, bool)>,
}

impl ReadinessReport {
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|(_, up)| *up)
    }
}

/// Runs the readiness probes.
#[derive(Clone, Default)]
pub struct HealthService {
    probes: Vec<Arc<dyn ReadinessProbe>>,
}

impl std::fmt::Debug for HealthService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.probes.iter().map(|probe| probe.name()).collect();
        formatter
            .debug_struct("HealthService")
            .field("probes", &names)
            .finish()
    }
}

impl HealthService {
    pub fn new(probes: Vec<Arc<dyn ReadinessProbe>>) -> Self {
        Self { probes }
    }

    /// Checks every probe; a failing one is logged with its cause and reported as down.
    #[tracing::instrument(name = "HealthService.readiness", level = "debug", skip_all)]
    pub async fn readiness(&self) -> ReadinessReport {
        let mut checks = Vec::with_capacity(self.probes.len());
        for probe in &self.probes {
            let up = match probe.check().await {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(
                        probe = probe.name(),
                        error = format!("{error:#}"),
                        "readiness check failed"
                    );
                    false
                }
            };
            checks.push((probe.name(), up));
        }
        ReadinessReport { checks }
    }
}

#[cfg(test)]
mod tests {
    use domain::ports::{MockReadinessProbe, NotReady};

    use super::*;

    fn probe(name: &'static str, up: bool) -> Arc<dyn ReadinessProbe> {
        let mut probe = MockReadinessProbe::new();
        probe.expect_name().return_const(name);
        probe.expect_check().returning(move || {
            if up {
                Ok(())
            } else {
                Err(NotReady(anyhow::anyhow!("connection refused")))
            }
        });
        Arc::new(probe)
    }

    #[tokio::test]
    async fn ready_when_every_probe_answers() {
        let health = HealthService::new(vec![probe("database", true)]);
        let report = health.readiness().await;
        assert!(report.is_ready());
        assert_eq!(report.checks, vec![("database", true)]);
    }

    #[tokio::test]
    async fn not_ready_when_any_probe_fails() {
        let health = HealthService::new(vec![probe("database", false), probe("other", true)]);
        let report = health.readiness().await;
        assert!(!report.is_ready());
        assert_eq!(report.checks, vec![("database", false), ("other", true)]);
    }
}
