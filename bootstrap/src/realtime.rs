//! Which socket.io gateway the service runs: with `REDIS_URL`, one whose rooms and
//! broadcasts reach the sockets of every instance (through Redis pub/sub, falling back to
//! this instance's sockets while Redis does not answer); otherwise this instance's alone.

use std::sync::Arc;

use adapter_http::RestBodies;
use adapter_realtime::{GatewayPorts, Realtime, RealtimeConfig};
use adapter_redis::SocketIoBus;
use application::Authenticator;
use domain::ports::{Clock, Telemetry};

use crate::settings::Settings;

pub(crate) async fn gateway(
    settings: &Settings,
    authenticator: Authenticator,
    clock: &Arc<dyn Clock>,
    telemetry: Arc<dyn Telemetry>,
) -> anyhow::Result<Realtime> {
    let config = RealtimeConfig {
        max_sockets_per_user: settings.max_sockets_per_user,
        ..RealtimeConfig::default()
    };
    let ports = GatewayPorts {
        authenticator,
        clock: Arc::clone(clock),
        telemetry: Arc::clone(&telemetry),
        bodies: Arc::new(RestBodies),
    };
    let Some(redis) = crate::limits::redis_config(settings, "") else {
        return Ok(Realtime::new(ports, config));
    };
    let bus = SocketIoBus::new(&redis, Arc::clone(&telemetry))
        .map_err(|error| anyhow::anyhow!("invalid REDIS_URL: {error}"))?;
    let channel_prefix = bus.channel_prefix().to_owned();
    tracing::info!("socket.io rooms and broadcasts are shared through Redis by every instance");
    Ok(Realtime::across_instances(bus, channel_prefix, ports, config).await)
}
