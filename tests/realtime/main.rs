//! Black-box tests of the socket.io gateway: the real npm `socket.io-client` (driven by
//! `tests/js/driver.mjs`) against the real app, over websocket, long-polling, and
//! long-polling upgraded to websocket (see `socket_test!`). Tests where the database takes
//! part also run on PostgreSQL.

mod across_instances;
mod broadcasts;
mod handshake;
mod http;
mod messages;
mod revocation;
mod rooms;
