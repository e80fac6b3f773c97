//! Transports: command APDU bytes in, response APDU bytes out.

/// Why an APDU could not be exchanged with a card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The smart-card service cannot be reached (PC/SC: pcscd not running).
    #[error("the smart-card service is not available (is pcscd running?): {0}")]
    ServiceUnavailable(String),
    /// No reader is connected.
    #[error("no smart-card reader found")]
    NoReader,
    /// The named reader is not connected.
    #[error("no reader named {0:?}")]
    UnknownReader(String),
    /// The reader has no card (or passport) on it.
    #[error("no card on the reader")]
    NoCard,
    /// The card left the field or was reset during the exchange.
    #[error("the card was removed")]
    CardRemoved,
    /// The answer is not an APDU (shorter than a status word).
    #[error("the card's answer is not a response APDU")]
    Malformed,
    /// Anything else the reader or driver reported.
    #[error("reader error: {0}")]
    Other(String),
}

/// A way to exchange APDUs with one card. Implementations do not interpret the bytes.
pub trait Transport {
    /// Sends a command APDU and returns the response APDU (data and status word).
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;

    /// Resets the card (it forgets any secure-messaging session), for a fresh start after a
    /// failed attempt. A transport that cannot reset does nothing.
    fn reset(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        (**self).reset()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        (**self).reset()
    }
}
