//! Ended sessions reach every instance: with `REDIS_URL`, the use cases' `SessionsRevoked`
//! events are also published through Redis, and each instance's listener forgets the
//! cached auth states of those sessions at once and disconnects its own sockets of them.
//! Without Redis (one instance), the events go to this instance's gateway only.

use std::sync::Arc;

use adapter_redis::{RedisConfig, RedisRevocations, Revoked};
use application::{AuthStates, SessionStates};
use async_trait::async_trait;
use domain::ports::{DomainEvent, EventPublisher, Telemetry};

/// The publisher for the use cases, and the listener to run while the app serves.
pub(crate) struct SharedEvents {
    pub(crate) publisher: Arc<dyn EventPublisher>,
    pub(crate) listener: Option<tokio::task::JoinHandle<()>>,
}

/// What this instance forgets and disconnects when any instance ends sessions.
pub(crate) struct Local {
    pub(crate) gateway: Arc<dyn EventPublisher>,
    pub(crate) auth_states: Arc<AuthStates>,
    pub(crate) session_states: Arc<SessionStates>,
}

pub(crate) fn shared(
    redis: Option<RedisConfig>,
    telemetry: Arc<dyn Telemetry>,
    local: Local,
) -> anyhow::Result<SharedEvents> {
    let Some(redis) = redis else {
        return Ok(SharedEvents {
            publisher: local.gateway,
            listener: None,
        });
    };
    let bus = Arc::new(RedisRevocations::new(&redis, telemetry)?);
    let listening = Arc::clone(&bus);
    let gateway = Arc::clone(&local.gateway);
    let listener = tokio::spawn(async move {
        listening
            .listen(|revoked: Revoked| {
                match revoked.session {
                    Some(session) => local.session_states.invalidate(session),
                    None => local.auth_states.invalidate(revoked.user),
                }
                let gateway = Arc::clone(&gateway);
                async move {
                    gateway
                        .publish(DomainEvent::SessionsRevoked {
                            user: revoked.user,
                            session: revoked.session,
                            reason: revoked.reason,
                        })
                        .await;
                }
            })
            .await;
    });
    Ok(SharedEvents {
        publisher: Arc::new(Broadcast {
            gateway: local.gateway,
            bus,
        }),
        listener: Some(listener),
    })
}

/// Publishes to this instance's gateway, and ended sessions to every instance (this one
/// included: disconnecting and forgetting twice is harmless).
struct Broadcast {
    gateway: Arc<dyn EventPublisher>,
    bus: Arc<RedisRevocations>,
}

#[async_trait]
impl EventPublisher for Broadcast {
    async fn publish(&self, event: DomainEvent) {
        if let DomainEvent::SessionsRevoked {
            user,
            session,
            reason,
        } = &event
        {
            self.bus
                .publish(Revoked {
                    user: *user,
                    session: *session,
                    reason: *reason,
                })
                .await;
        }
        self.gateway.publish(event).await;
    }
}
