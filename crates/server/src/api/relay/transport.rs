//! The chip as the server sees it during a relay: a `reader::Transport` whose APDUs travel to
//! the reading client over the WebSocket and whose answers come back from it. It runs on a
//! blocking thread (the terminal, `reader::read_document`, is synchronous) and talks to the
//! socket's task through channels.
//!
//! Everything the client sends is checked here: only an answer to the one outstanding command,
//! in time, within the limits. A violation is fatal: it is kept, every later exchange fails at
//! once, and the relay ends with it.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use crate::config::RelayLimits;
use reader::{Transport, TransportError};
use relay_protocol::{
    ClientMessage, FailureReason, ServerMessage, apdu_bytes, apdu_hex, error_name, limits,
};
use tokio::sync::mpsc::UnboundedSender;

/// What the socket's task passes on from the client.
#[derive(Debug)]
pub enum Incoming {
    Message(ClientMessage),
    /// A frame that is not a protocol message (the parse error).
    Garbage(String),
    /// The client closed the connection or it broke.
    Closed,
}

/// Why the relay ended on the client's side: an error name of `relay_protocol::error_name`
/// and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayFailure {
    pub error_name: &'static str,
    pub message: String,
}

pub struct RelayTransport {
    out: UnboundedSender<ServerMessage>,
    incoming: Receiver<Incoming>,
    limits: RelayLimits,
    deadline: Instant,
    can_reset: bool,
    seq: u64,
    apdus: u64,
    response_bytes: u64,
    fatal: Option<RelayFailure>,
}

impl RelayTransport {
    pub fn new(
        out: UnboundedSender<ServerMessage>,
        incoming: Receiver<Incoming>,
        limits: RelayLimits,
        can_reset: bool,
    ) -> Self {
        RelayTransport {
            out,
            incoming,
            limits,
            deadline: Instant::now() + limits.read_timeout,
            can_reset,
            seq: 0,
            apdus: 0,
            response_bytes: 0,
            fatal: None,
        }
    }

    /// The violation that ended the relay, if one did.
    pub fn failure(&self) -> Option<&RelayFailure> {
        self.fatal.as_ref()
    }

    /// Commands sent so far.
    pub fn apdus(&self) -> u64 {
        self.apdus
    }

    fn fail(&mut self, error_name: &'static str, message: String) -> TransportError {
        let error = TransportError::Other(format!("relay: {message}"));
        self.fatal.get_or_insert(RelayFailure {
            error_name,
            message,
        });
        error
    }

    /// Sends `message` (numbered `seq`) and waits for the client's answer to it.
    fn exchange(&mut self, message: ServerMessage) -> Result<Vec<u8>, TransportError> {
        if let Some(f) = &self.fatal {
            return Err(TransportError::Other(format!("relay: {}", f.message)));
        }
        let seq = self.seq;
        if self.out.send(message).is_err() {
            return Err(self.fail(
                error_name::CARD_REMOVED,
                "the client closed the connection".into(),
            ));
        }
        let now = Instant::now();
        if now >= self.deadline {
            return Err(self.fail(
                error_name::RELAY_TIMEOUT,
                format!(
                    "the read took longer than {} s",
                    self.limits.read_timeout.as_secs()
                ),
            ));
        }
        let wait = self.limits.apdu_timeout.min(self.deadline - now);
        let answer = match self.incoming.recv_timeout(wait) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => {
                let message = if wait < self.limits.apdu_timeout {
                    format!(
                        "the read took longer than {} s",
                        self.limits.read_timeout.as_secs()
                    )
                } else {
                    format!(
                        "no response to command {seq} within {} s",
                        self.limits.apdu_timeout.as_secs()
                    )
                };
                return Err(self.fail(error_name::RELAY_TIMEOUT, message));
            }
            Err(RecvTimeoutError::Disconnected) => Incoming::Closed,
        };
        match answer {
            Incoming::Message(ClientMessage::Response { seq: s, apdu }) if s == seq => {
                let bytes = apdu_bytes(&apdu, limits::MAX_RESPONSE_APDU).map_err(|e| {
                    self.fail(
                        error_name::RELAY_PROTOCOL_ERROR,
                        format!("response {seq} is {e}"),
                    )
                })?;
                self.response_bytes += bytes.len() as u64;
                if self.response_bytes > self.limits.max_response_bytes {
                    return Err(self.fail(
                        error_name::RELAY_LIMIT_EXCEEDED,
                        format!(
                            "more than {} response bytes",
                            self.limits.max_response_bytes
                        ),
                    ));
                }
                Ok(bytes)
            }
            Incoming::Message(ClientMessage::Failure {
                seq: s,
                reason,
                message,
            }) if s == seq => {
                let said = message
                    .map(|m| format!(" ({})", m.chars().take(200).collect::<String>()))
                    .unwrap_or_default();
                match reason {
                    FailureReason::CardRemoved => Err(TransportError::CardRemoved),
                    FailureReason::TransmitFailed => Err(TransportError::Other(format!(
                        "the client's reader could not transmit the command{said}"
                    ))),
                    FailureReason::ResetUnsupported => Err(TransportError::Other(
                        "the client cannot reset the card".into(),
                    )),
                }
            }
            Incoming::Message(
                ClientMessage::Response { seq: s, .. } | ClientMessage::Failure { seq: s, .. },
            ) => Err(self.fail(
                error_name::RELAY_PROTOCOL_ERROR,
                format!(
                    "an answer numbered {s} while command {seq} was outstanding (replayed, reordered or invented)"
                ),
            )),
            Incoming::Message(ClientMessage::Hello(_)) => Err(self.fail(
                error_name::RELAY_PROTOCOL_ERROR,
                "a second hello".into(),
            )),
            Incoming::Garbage(e) => Err(self.fail(
                error_name::RELAY_PROTOCOL_ERROR,
                format!("a message that is not one of the protocol's: {e}"),
            )),
            Incoming::Closed => Err(self.fail(
                error_name::CARD_REMOVED,
                "the client closed the connection".into(),
            )),
        }
    }
}

impl Transport for RelayTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.fatal.is_none() && self.apdus >= self.limits.max_apdus {
            return Err(self.fail(
                error_name::RELAY_LIMIT_EXCEEDED,
                format!("more than {} commands", self.limits.max_apdus),
            ));
        }
        self.apdus += 1;
        self.seq += 1;
        let seq = self.seq;
        let response = self.exchange(ServerMessage::Command {
            seq,
            apdu: apdu_hex(command),
        })?;
        if response.len() < 2 {
            return Err(self.fail(
                error_name::RELAY_PROTOCOL_ERROR,
                format!("response {seq} is shorter than a status word"),
            ));
        }
        Ok(response)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        if !self.can_reset {
            return Err(TransportError::Other(
                "the client cannot reset the card".into(),
            ));
        }
        self.seq += 1;
        let seq = self.seq;
        let response = self.exchange(ServerMessage::Reset { seq })?;
        if !response.is_empty() {
            return Err(self.fail(
                error_name::RELAY_PROTOCOL_ERROR,
                format!("the answer to reset {seq} carries an APDU"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use std::time::Duration;

    use super::*;

    /// A transport whose client answers every command with `answer(seq)` from another thread.
    fn with_client(
        limits: RelayLimits,
        answer: impl Fn(u64) -> Option<Incoming> + Send + 'static,
    ) -> RelayTransport {
        let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<ServerMessage>();
        let (in_tx, in_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Some(message) = out_rx.blocking_recv() {
                let seq = match message {
                    ServerMessage::Command { seq, .. } | ServerMessage::Reset { seq } => seq,
                    _ => continue,
                };
                if let Some(reply) = answer(seq)
                    && in_tx.send(reply).is_err()
                {
                    return;
                }
            }
        });
        RelayTransport::new(out_tx, in_rx, limits, false)
    }

    fn ok(seq: u64) -> Option<Incoming> {
        Some(Incoming::Message(ClientMessage::Response {
            seq,
            apdu: "0102039000".into(),
        }))
    }

    #[test]
    fn answers_pass_and_limits_end_the_relay() {
        let limits = RelayLimits {
            max_apdus: 3,
            ..RelayLimits::default()
        };
        let mut t = with_client(limits, ok);
        for _ in 0..3 {
            assert_eq!(
                t.transmit(&[0, 0xA4, 0, 0]).unwrap(),
                vec![1, 2, 3, 0x90, 0]
            );
        }
        assert!(t.transmit(&[0, 0xA4, 0, 0]).is_err());
        assert_eq!(
            t.failure().unwrap().error_name,
            error_name::RELAY_LIMIT_EXCEEDED
        );
        // Once failed, always failed.
        assert!(t.transmit(&[0, 0xA4, 0, 0]).is_err());

        let limits = RelayLimits {
            max_response_bytes: 12,
            ..RelayLimits::default()
        };
        let mut t = with_client(limits, ok);
        t.transmit(&[0]).unwrap();
        t.transmit(&[0]).unwrap();
        assert!(t.transmit(&[0]).is_err());
        assert_eq!(
            t.failure().unwrap().error_name,
            error_name::RELAY_LIMIT_EXCEEDED
        );
    }

    #[test]
    fn silence_and_slowness_time_out() {
        let limits = RelayLimits {
            apdu_timeout: Duration::from_millis(100),
            ..RelayLimits::default()
        };
        let mut t = with_client(limits, |_| None);
        let started = Instant::now();
        assert!(t.transmit(&[0]).is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
        let failure = t.failure().unwrap();
        assert_eq!(failure.error_name, error_name::RELAY_TIMEOUT);
        assert!(
            failure.message.contains("no response to command 1"),
            "{failure:?}"
        );

        // Each answer in time, the whole read not.
        let limits = RelayLimits {
            apdu_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_millis(250),
            ..RelayLimits::default()
        };
        let mut t = with_client(limits, |seq| {
            std::thread::sleep(Duration::from_millis(100));
            ok(seq)
        });
        let mut sent = 0;
        while t.transmit(&[0]).is_ok() {
            sent += 1;
            assert!(sent < 10);
        }
        let failure = t.failure().unwrap();
        assert_eq!(failure.error_name, error_name::RELAY_TIMEOUT);
        assert!(
            failure.message.contains("the read took longer"),
            "{failure:?}"
        );
    }

    #[test]
    fn only_the_outstanding_command_may_be_answered() {
        for (answer, what) in [
            (
                Incoming::Message(ClientMessage::Response {
                    seq: 7,
                    apdu: "9000".into(),
                }),
                "numbered 7",
            ),
            (Incoming::Garbage("x".into()), "not one of the protocol's"),
            (
                Incoming::Message(ClientMessage::Response {
                    seq: 1,
                    apdu: "90".into(),
                }),
                "shorter than a status word",
            ),
        ] {
            let answer = std::sync::Mutex::new(Some(answer));
            let mut t = with_client(RelayLimits::default(), move |_| {
                answer.lock().unwrap().take()
            });
            assert!(t.transmit(&[0]).is_err());
            let failure = t.failure().unwrap();
            assert_eq!(failure.error_name, error_name::RELAY_PROTOCOL_ERROR);
            assert!(failure.message.contains(what), "{failure:?}");
        }
        // A card the client lost is not the client's fault: not a protocol failure.
        let mut t = with_client(RelayLimits::default(), |seq| {
            Some(Incoming::Message(ClientMessage::Failure {
                seq,
                reason: FailureReason::CardRemoved,
                message: None,
            }))
        });
        assert_eq!(t.transmit(&[0]), Err(TransportError::CardRemoved));
        assert!(t.failure().is_none());
        // Without reset support, a reset is refused without asking the client.
        assert!(t.reset().is_err());
    }
}
